// The only reader of process.env: every variable is parsed here once, its default beside it.
import { z } from 'zod';
import { kekText } from './common/seal.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: wholeNumber(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  // Defaults to http://localhost:$PORT, filled in below once PORT is known.
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .refine((value) => !new URL(value).search && !new URL(value).hash, 'must have no query or fragment')
    .optional(),
  // Unset: PGlite in ./data/pglite. `pglite://memory` is an in-memory PGlite (tests),
  // `pglite:<directory>` a PGlite elsewhere, postgres(ql):// a PostgreSQL server.
  DATABASE_URL: z
    .string()
    .refine(
      (value) => /^postgres(ql)?:\/\/./.test(value) || /^pglite:./.test(value),
      'must be a postgres:// URL, pglite://memory or pglite:<directory>',
    )
    .optional(),
  // PostgreSQL connections per instance; PGlite has one.
  DATABASE_POOL_SIZE: wholeNumber(1, 100).default(10),
  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// or rediss:// URL' }).optional(),
  KEYS_DIR: z.string().min(1).default('./keys'),
  // The key-encryption key, base64url, for platforms without files; else KEYS_DIR/encryption.json.
  ENCRYPTION_KEY: kekText.optional(),
  // How long a rotated-in signing key is published before it signs: longer than verifiers cache the JWKS.
  KEY_STAGING_SECONDS: wholeNumber(0, 604_800).default(600),
  MIGRATE_ON_START: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  CLIENTS_FILE: z.string().min(1).optional(),
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(1).optional(),
  ACCESS_TOKEN_TTL: wholeNumber(60, 86_400).default(900),
  REFRESH_TOKEN_TTL: wholeNumber(300, 31_536_000).default(604_800),
  BCRYPT_COST: wholeNumber(4, 31).default(12),
  PASSWORD_POLICY: z.enum(['standard', 'nist']).default('standard'),
  LOGIN_RATE_LIMIT: z
    .string()
    .regex(/^\d+\/\d+$/, 'must be attempts/seconds, e.g. 5/60')
    .transform((value) => {
      const [points, seconds] = value.split('/').map(Number) as [number, number];
      return { points, seconds };
    })
    .refine(({ points, seconds }) => points >= 1 && seconds >= 1, 'attempts and seconds must be at least 1')
    .default({ points: 5, seconds: 60 }),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).refine((o) => new URL(o).origin === o, 'each origin must be scheme://host[:port]'))),
  // Proxy hops in front of the service; true is one, false none.
  TRUST_PROXY: z
    .string()
    .transform((value) => (['true', 'yes'].includes(value) ? '1' : ['false', 'no'].includes(value) ? '0' : value))
    .pipe(wholeNumber(0, 10))
    .default(0),
  // smtp://user:pass@host:port or smtps://…; unset outside production, mail is written to the log.
  SMTP_URL: z.url({ protocol: /^smtps?$/, message: 'must be an smtp:// or smtps:// URL' }).optional(),
  // Defaults to Gatehouse <no-reply@$PUBLIC_URL host>, filled in below.
  MAIL_FROM: z
    .string()
    .max(320)
    .refine((value) => !/[\r\n]/.test(value), 'must be one line')
    .refine((value) => /^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(value.trim()), 'must be an address, or Name <address>')
    .optional(),
  EMAIL_VERIFICATION: z.enum(['off', 'optional', 'required']).default('optional'),
  MFA_REQUIRED_ROLES: z
    .string()
    .default('')
    .transform((value) => [...new Set(value.split(',').map((role) => role.trim()).filter(Boolean))])
    .pipe(z.array(z.string().max(64, 'each role name must be at most 64 characters'))),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  // Unset: /metrics is served on PORT. Set: only on this port, bound to HOST.
  METRICS_PORT: wholeNumber(0, 65535).optional(),
  // 0: a SIGTERM closes the listener at once. Behind a load balancer, its deregistration time.
  SHUTDOWN_DELAY: wholeNumber(0, 300).default(0),
});

/** The variables loadConfig reads. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

export type Database =
  | { driver: 'pglite'; dataDir: string | null }
  | { driver: 'postgres'; url: string; poolSize: number };

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string;
  issuer: string;
  apiAudience: string;
  database: Database;
  redisUrl: string | null;
  keysDir: string;
  /** ENCRYPTION_KEY; null reads KEYS_DIR/encryption.json. */
  encryptionKey: string | null;
  keyStagingSeconds: number;
  migrateOnStart: boolean;
  clientsFile: string | null;
  admin: { email: string; password: string } | null;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  bcryptCost: number;
  passwordPolicy: 'standard' | 'nist';
  loginRateLimit: { points: number; seconds: number };
  corsOrigins: string[];
  /** Proxy hops in front: the client address is the X-Forwarded-For entry that many from the right; 0 reads none. */
  trustProxy: number;
  /** Outgoing mail; null writes it to the log (never in production). */
  smtpUrl: string | null;
  mailFrom: string;
  /** off: no mail; optional: mailed, sign-in allowed; required: no sign-in before the address is verified. */
  emailVerification: 'off' | 'optional' | 'required';
  /** Roles whose members get no tokens before they enrol a second factor. */
  mfaRequiredRoles: string[];
  logLevel: (typeof LOG_LEVELS)[number];
  /** The port of a listener serving only /metrics; null serves it on `port`. */
  metricsPort: number | null;
  /** Seconds between a SIGTERM (readiness fails at once) and closing the listener. */
  shutdownDelay: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function parseDatabase(url: string | undefined, poolSize: number): Database {
  if (url === undefined) return { driver: 'pglite', dataDir: './data/pglite' };
  if (url === 'pglite://memory') return { driver: 'pglite', dataDir: null };
  if (url.startsWith('pglite:')) return { driver: 'pglite', dataDir: url.slice('pglite:'.length) };
  return { driver: 'postgres', url, poolSize };
}

/** Parses the environment once. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, the way shells and compose files mean them.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];

  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  if ((e.ADMIN_EMAIL === undefined) !== (e.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_EMAIL / ADMIN_PASSWORD: set both or neither');
  }
  if (e.REFRESH_TOKEN_TTL <= e.ACCESS_TOKEN_TTL) {
    problems.push('REFRESH_TOKEN_TTL: must be longer than ACCESS_TOKEN_TTL');
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    problems.push('METRICS_PORT: must differ from PORT');
  }

  if (e.NODE_ENV === 'production') {
    if (new URL(publicUrl).protocol !== 'https:') problems.push('PUBLIC_URL: must be an https URL in production');
    // An explicit pglite:<directory> is allowed: the embedded database is then a choice, not an accident.
    if (e.DATABASE_URL === undefined) problems.push('DATABASE_URL: required in production (a postgres:// URL, or pglite:<directory> for the embedded database)');
    if (e.DATABASE_URL === 'pglite://memory') problems.push('DATABASE_URL: an in-memory database loses every user on restart; refused in production');
    if (e.BCRYPT_COST < 10) problems.push('BCRYPT_COST: must be at least 10 in production');
    if (e.SMTP_URL === undefined) problems.push('SMTP_URL: required in production (password resets and verification mail)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    issuer: `${publicUrl}/oidc`,
    apiAudience: `${publicUrl}/api`,
    database: parseDatabase(e.DATABASE_URL, e.DATABASE_POOL_SIZE),
    redisUrl: e.REDIS_URL ?? null,
    keysDir: e.KEYS_DIR,
    encryptionKey: e.ENCRYPTION_KEY ?? null,
    keyStagingSeconds: e.KEY_STAGING_SECONDS,
    migrateOnStart: e.MIGRATE_ON_START,
    clientsFile: e.CLIENTS_FILE ?? null,
    admin: e.ADMIN_EMAIL && e.ADMIN_PASSWORD ? { email: e.ADMIN_EMAIL.toLowerCase(), password: e.ADMIN_PASSWORD } : null,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    bcryptCost: e.BCRYPT_COST,
    passwordPolicy: e.PASSWORD_POLICY,
    loginRateLimit: e.LOGIN_RATE_LIMIT,
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    smtpUrl: e.SMTP_URL ?? null,
    mailFrom: e.MAIL_FROM?.trim() ?? `Gatehouse <no-reply@${new URL(publicUrl).hostname}>`,
    emailVerification: e.EMAIL_VERIFICATION,
    mfaRequiredRoles: e.MFA_REQUIRED_ROLES,
    logLevel: e.LOG_LEVEL,
    metricsPort: e.METRICS_PORT ?? null,
    shutdownDelay: e.SHUTDOWN_DELAY,
  };
}
