// The one wiring point: every service is made here from the config, in dependency order.
import type Provider from 'oidc-provider';
import { openDatabase, type Database } from '../db/client.ts';
import { ensureBootstrapAdmin } from './bootstrap.ts';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { loadTemplates } from './mail/templates.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createAdapterFactory, purgeExpiredOidcRows } from './oidc/adapter.ts';
import { loadClientsFile, validateStaticClients } from './oidc/clients-file.ts';
import { loadEncryptionKey, readLegacyKeys } from './oidc/keystore.ts';
import { watchKeys, type LiveKeys, type PublishedKeys } from './oidc/live-keys.ts';
import { createProvider } from './oidc/provider.ts';
import { trackTokenEndpoint } from './oidc/token-events.ts';
import { countIssuedTokens } from './oidc/token-metrics.ts';
import { createResourceServers } from './oidc/resource-servers.ts';
import { createTokenService } from './oidc/tokens.ts';
import { purgeAccountTokens } from './services/account-tokens.ts';
import { createAccountService, type AccountService } from './services/account.ts';
import { createUserAdmin, type UserAdmin } from './services/admin-users.ts';
import { createAccessDenials, type AccessDenials } from './services/access-denied.ts';
import { createAudit, type Audit } from './services/audit.ts';
import { auditMetricsHook } from './services/audit-metrics.ts';
import { createAuditLog, type AuditLog } from './services/audit-queries.ts';
import { createAuthService, type AuthService } from './services/auth.ts';
import { createClientAdmin, type ClientAdmin } from './services/clients.ts';
import { createLoginGuard, type LoginGuard } from './services/login-guard.ts';
import { createMfaService, purgeMfaChallenges, type MfaService } from './services/mfa.ts';
import { createSealer, type Sealer } from './common/seal.ts';
import { createSigningKeys, type LoadedKeys, type SigningKeys } from './services/signing-keys.ts';
import { createMailWorker, purgeOutbox, type MailWorker, type MailWorkerOptions } from './services/outbox.ts';
import { createPasswords, type Passwords } from './services/passwords.ts';
import { createRateLimits, type RateLimits } from './services/rate-limits/limiter.ts';
import { limitRules, type CounterOverrides } from './services/rate-limits/rules.ts';
import { openRateLimitStore, type RateLimitStore, type RateLimitStoreTarget } from './services/rate-limits/store.ts';
import { createRecoveryService, type RecoveryService } from './services/recovery.ts';
import { createResourceAdmin, type ResourceAdmin } from './services/resources.ts';
import { createRoleAdmin, type RoleAdmin } from './services/roles.ts';
import { purgeExpiredSessions } from './services/sessions.ts';
import type { TokenService } from './services/tokens.ts';

export interface DepsOptions {
  log?: Logger;
  refreshGraceSeconds?: number;
  /** How often expired store rows are purged; 0 turns the timer off. */
  purgeIntervalMs?: number;
  /** Points or windows of named counters (rules.ts), for tests. */
  rateLimits?: CounterOverrides;
  /** Prefix of rate-limit keys in the store (tests sharing one Redis use a random one). */
  rateLimitKeyPrefix?: string;
  /** The mail worker's timing (tests); its `pollMs: 0` leaves only the wake-ups of this instance's own writes. */
  mail?: MailWorkerOptions;
  /** How often the signing keys are re-read from the database; 0 reads them at start only (the CLI). */
  keyPollMs?: number;
}

export interface Deps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  database: Database;
  /** The keys as loaded at start; liveKeys follows rotations made since, and keeps `cookieSecrets` current in place. */
  keys: LoadedKeys;
  signingKeys: SigningKeys;
  liveKeys: LiveKeys;
  published: PublishedKeys;
  provider: Provider;
  passwords: Passwords;
  audit: Audit;
  tokens: TokenService;
  auth: AuthService;
  mfa: MfaService;
  account: AccountService;
  recovery: RecoveryService;
  mailer: Mailer;
  mailWorker: MailWorker;
  auditLog: AuditLog;
  userAdmin: UserAdmin;
  roleAdmin: RoleAdmin;
  clientAdmin: ClientAdmin;
  resourceAdmin: ResourceAdmin;
  /** login (auth.login, hosted page), changePassword, register, verify, token (/oidc/token, auth.refresh). */
  rateLimits: RateLimits;
  rateLimitStore: RateLimitStore;
  loginGuard: LoginGuard;
  accessDenials: AccessDenials;
  /** Deletes expired provider rows, sessions, mailed tokens, delivered mail and rate-limit counters. */
  purge(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_REFRESH_GRACE_SECONDS = 5;

/** How long a retired key stays published: a day for verifiers' caches, plus the longest token lifetime. */
export function keyRetentionSeconds(config: Config): number {
  return 86_400 + config.accessTokenTtl;
}

function rateLimitTarget(config: Config, database: Database, keyPrefix: string): RateLimitStoreTarget {
  if (config.redisUrl) return { kind: 'redis', url: config.redisUrl, keyPrefix };
  // An in-memory PGlite is one throwaway process: its counters need not outlive it either.
  if (config.database.driver === 'pglite' && config.database.dataDir === null) return { kind: 'memory', keyPrefix };
  return { kind: 'database', db: database.db, keyPrefix };
}

export async function createDeps(config: Config, options: DepsOptions = {}): Promise<Deps> {
  const log = options.log ?? createLogger(config.logLevel);
  const encryptionKey = await loadEncryptionKey(config.keysDir, { fromEnv: config.encryptionKey, allowGenerate: config.env !== 'production' });
  const database = await openDatabase(config.database, {
    migrate: config.migrateOnStart,
    onApplied: (migration) => log.info({ migration }, 'migration applied'),
  });
  let rateLimitStore: RateLimitStore | undefined;
  try {
    rateLimitStore = await openRateLimitStore(rateLimitTarget(config, database, options.rateLimitKeyPrefix ?? 'gatehouse'));
    return await wire(config, options, log, createSealer(encryptionKey), database, rateLimitStore);
  } catch (error) {
    await rateLimitStore?.close();
    await database.close();
    throw error;
  }
}

async function wire(config: Config, options: DepsOptions, log: Logger, sealer: Sealer, database: Database, rateLimitStore: RateLimitStore): Promise<Deps> {
  const { db } = database;
  const metrics = createMetrics({ poolStats: () => database.poolStats() });
  const audit = createAudit(db, auditMetricsHook({ log, metrics }));

  const signingKeys = createSigningKeys({
    db,
    sealer,
    audit,
    retentionSeconds: keyRetentionSeconds(config),
    cookieRetentionSeconds: config.refreshTokenTtl,
    stagingSeconds: config.keyStagingSeconds,
  });
  const made = await signingKeys.ensure(await readLegacyKeys(config.keysDir));
  if (made.signing !== 'kept' || made.cookies !== 'kept') log.info(made, 'signing keys and cookie secrets stored in the database');
  const keys = await signingKeys.load();

  const adapter = createAdapterFactory(db, { refreshGraceSeconds: options.refreshGraceSeconds ?? DEFAULT_REFRESH_GRACE_SECONDS });
  const staticClients = config.clientsFile ? await loadClientsFile(config.clientsFile) : [];
  const resourceServers = createResourceServers({ config, db });
  const provider = createProvider({ config, db, keys, adapter, staticClients, resourceServers });
  await validateStaticClients(provider, staticClients);
  const liveKeys = watchKeys({ provider, signingKeys, initial: keys, pollMs: options.keyPollMs ?? 2000, log });
  const { published } = liveKeys;
  const rateLimits = createRateLimits(rateLimitStore, limitRules(config.loginRateLimit, options.rateLimits), {
    async onRejected({ limit, counter, first, meta, userId, metadata }) {
      metrics.rateLimitRejections.inc({ limit, counter });
      if (limit === 'login') metrics.logins.inc({ outcome: 'rate_limited' });
      // One row per key and window, not one per refused request: a flood cannot flood the trail.
      if (first) await audit.record({ type: 'rate_limited', success: false, reason: counter, userId: userId ?? null, ...meta, metadata: { limit, ...metadata } });
    },
    onStoreError(error, limit) {
      log.error({ err: error, limit }, 'rate-limit store failed');
    },
  });
  trackTokenEndpoint(provider, { db, audit, limit: rateLimits.token });
  countIssuedTokens(provider, metrics);
  const passwords = await createPasswords({ cost: config.bcryptCost, policy: config.passwordPolicy, publicUrl: config.publicUrl });
  const tokens = createTokenService({ provider, config, db, published, resourceServers });
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, log });
  const mailWorker = createMailWorker({ db, mailer, render: loadTemplates(), config, audit, log, metrics, options: options.mail });
  const outbox = mailWorker;
  const mfa = createMfaService({
    db,
    audit,
    passwords,
    sealer,
    limit: rateLimits.mfa,
    issuer: new URL(config.publicUrl).host,
    requiredRoles: config.mfaRequiredRoles,
    onUnsealFailed: (userId, error) => log.error({ userId, reason: error.message }, 'a TOTP secret does not open: check ENCRYPTION_KEY or KEYS_DIR/encryption.json'),
  });
  const auth = createAuthService({ config, db, audit, passwords, tokens, mfa, outbox });
  const account = createAccountService({ db, audit, passwords, outbox });
  const recovery = createRecoveryService({ db, audit, passwords, outbox });
  const auditLog = createAuditLog(db);
  const userAdmin = createUserAdmin({ db, audit, passwords });
  const roleAdmin = createRoleAdmin({ db, audit });
  const clientAdmin = createClientAdmin({ db, audit, provider });
  const resourceAdmin = createResourceAdmin({ config, db, audit });
  const loginGuard = createLoginGuard({ limit: rateLimits.login, secrets: keys.cookieSecrets });
  const accessDenials = createAccessDenials({ audit, store: rateLimitStore });
  await ensureBootstrapAdmin({ config, db, audit, passwords, log });

  const purge = async () => {
    try {
      await purgeExpiredOidcRows(db);
      await purgeExpiredSessions(db);
      await purgeAccountTokens(db);
      await purgeMfaChallenges(db);
      await purgeOutbox(db);
      await signingKeys.purge();
      await rateLimitStore.purge();
    } catch (error) {
      log.warn({ err: error }, 'purge of expired rows failed');
    }
  };
  const purgeMs = options.purgeIntervalMs ?? 10 * 60 * 1000;
  const timer = purgeMs > 0 ? setInterval(purge, purgeMs).unref() : undefined;
  mailWorker.start();

  return {
    config,
    log,
    metrics,
    database,
    keys,
    signingKeys,
    liveKeys,
    published,
    provider,
    passwords,
    audit,
    tokens,
    auth,
    mfa,
    account,
    recovery,
    mailer,
    mailWorker,
    auditLog,
    userAdmin,
    roleAdmin,
    clientAdmin,
    resourceAdmin,
    rateLimits,
    rateLimitStore,
    loginGuard,
    accessDenials,
    purge,
    async close() {
      clearInterval(timer);
      liveKeys.stop();
      await mailWorker.stop();
      mailer.close();
      await rateLimitStore.close();
      await database.close();
    },
  };
}
