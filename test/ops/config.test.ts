import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../../server/config.ts';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('has safe development defaults for every variable', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      host: '127.0.0.1',
      publicUrl: 'http://localhost:3000',
      issuer: 'http://localhost:3000/oidc',
      apiAudience: 'http://localhost:3000/api',
      database: { driver: 'pglite', dataDir: './data/pglite' },
      redisUrl: null,
      keysDir: './keys',
      admin: null,
      accessTokenTtl: 900,
      refreshTokenTtl: 604800,
      bcryptCost: 12,
      passwordPolicy: 'standard',
      loginRateLimit: { points: 5, seconds: 60 },
      corsOrigins: [],
      trustProxy: 0,
      logLevel: 'info',
      metricsPort: null,
      shutdownDelay: 0,
    });
  });

  it('parses every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://auth.example.com/',
      DATABASE_URL: 'postgres://u@db:5432/gh',
      DATABASE_POOL_SIZE: '3',
      REDIS_URL: 'redis://cache:6379',
      KEYS_DIR: '/run/keys',
      ADMIN_EMAIL: 'Root@Example.com',
      ADMIN_PASSWORD: 'x',
      ACCESS_TOKEN_TTL: '300',
      REFRESH_TOKEN_TTL: '3600',
      BCRYPT_COST: '11',
      PASSWORD_POLICY: 'nist',
      LOGIN_RATE_LIMIT: '10/300',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'warn',
      METRICS_PORT: '9464',
      SHUTDOWN_DELAY: '10',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'https://auth.example.com',
      issuer: 'https://auth.example.com/oidc',
      database: { driver: 'postgres', url: 'postgres://u@db:5432/gh', poolSize: 3 },
      redisUrl: 'redis://cache:6379',
      keysDir: '/run/keys',
      admin: { email: 'root@example.com', password: 'x' },
      accessTokenTtl: 300,
      refreshTokenTtl: 3600,
      bcryptCost: 11,
      passwordPolicy: 'nist',
      loginRateLimit: { points: 10, seconds: 300 },
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      trustProxy: 1,
      logLevel: 'warn',
      metricsPort: 9464,
      shutdownDelay: 10,
    });
    expect(loadConfig({ DATABASE_URL: 'pglite://memory' }).database).toEqual({ driver: 'pglite', dataDir: null });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/gh' }).database).toEqual({ driver: 'postgres', url: 'postgres://u@db/gh', poolSize: 10 });
  });

  it('reads TRUST_PROXY as a number of proxy hops, true being one', () => {
    const hops = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;
    expect([hops('false'), hops('0'), hops('true'), hops('1'), hops('2'), hops('yes'), hops('no')]).toEqual([0, 0, 1, 1, 2, 1, 0]);
    for (const value of ['-1', '1.5', '11', 'two']) expect(problems({ TRUST_PROXY: value }).join(), value).toMatch(/^TRUST_PROXY/);
  });

  it('names the variable of every invalid value', () => {
    const cases: Record<string, string> = {
      PORT: 'eighty',
      PUBLIC_URL: 'ftp://x',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'http://x',
      ACCESS_TOKEN_TTL: '-5',
      BCRYPT_COST: '40',
      PASSWORD_POLICY: 'lax',
      LOGIN_RATE_LIMIT: 'five',
      CORS_ORIGINS: 'https://ok.example.com,https://bad.example.com/path',
      TRUST_PROXY: 'maybe',
      LOG_LEVEL: 'loud',
      ADMIN_EMAIL: 'not-an-email',
      DATABASE_POOL_SIZE: '0',
      METRICS_PORT: '70000',
      SHUTDOWN_DELAY: '1.5',
      ENCRYPTION_KEY: Buffer.alloc(16).toString('base64url'),
      KEY_STAGING_SECONDS: '604801',
      MIGRATE_ON_START: 'yes',
    };
    for (const [name, value] of Object.entries(cases)) {
      const found = problems({ [name]: value });
      expect(found.join('\n'), name).toMatch(new RegExp(`^${name}`, 'm'));
    }
    expect(problems({ ADMIN_EMAIL: 'a@b.co' }).join()).toMatch(/ADMIN_EMAIL \/ ADMIN_PASSWORD/);
    expect(problems({ ACCESS_TOKEN_TTL: '3600', REFRESH_TOKEN_TTL: '1800' }).join()).toMatch(/REFRESH_TOKEN_TTL/);
    expect(problems({ SMTP_URL: 'http://mail.example.com' }).join()).toMatch(/^SMTP_URL/);
    expect(problems({ MAIL_FROM: 'Gatehouse <a@b.co>\r\nBcc: x@y.z' }).join()).toMatch(/^MAIL_FROM/);
    expect(problems({ EMAIL_VERIFICATION: 'sometimes' }).join()).toMatch(/^EMAIL_VERIFICATION/);
    expect(problems({ DATABASE_POOL_SIZE: '101' }).join()).toMatch(/^DATABASE_POOL_SIZE/);
    expect(problems({ SHUTDOWN_DELAY: '301' }).join()).toMatch(/^SHUTDOWN_DELAY/);
    expect(problems({ ENCRYPTION_KEY: 'not base64url!' }).join()).toMatch(/^ENCRYPTION_KEY/);
    expect(problems({ ENCRYPTION_KEY: Buffer.alloc(32).toString('base64url') })).toEqual([]);
    expect(problems({ PORT: '9464', METRICS_PORT: '9464' })).toEqual(['METRICS_PORT: must differ from PORT']);
    expect(problems({ PORT: '0', METRICS_PORT: '0' })).toEqual([]);
  });

  it('refuses unsafe defaults in production', () => {
    const found = problems({ NODE_ENV: 'production', DATABASE_URL: 'pglite://memory', BCRYPT_COST: '8' });
    expect(found.join('\n')).toMatch(/^PUBLIC_URL: must be an https URL/m);
    expect(found.join('\n')).toMatch(/^DATABASE_URL: an in-memory database/m);
    expect(found.join('\n')).toMatch(/^BCRYPT_COST/m);
    expect(found.join('\n')).toMatch(/^SMTP_URL: required in production/m);
    const safe = { NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', SMTP_URL: 'smtps://mailer:secret@smtp.example.com:465' };
    expect(problems({ ...safe, DATABASE_URL: 'postgres://gatehouse@db:5432/gatehouse' })).toEqual([]);
  });

  it('requires DATABASE_URL in production, and takes an explicit PGlite directory', () => {
    const safe = { NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', SMTP_URL: 'smtps://mailer:secret@smtp.example.com:465' };
    expect(problems(safe)).toEqual([expect.stringMatching(/^DATABASE_URL: required in production/)]);
    expect(loadConfig({ ...safe, DATABASE_URL: 'pglite:/var/lib/gatehouse' }).database).toEqual({ driver: 'pglite', dataDir: '/var/lib/gatehouse' });
    // Outside production, unset still means the PGlite in ./data/pglite.
    expect(loadConfig({ NODE_ENV: 'test' }).database).toEqual({ driver: 'pglite', dataDir: './data/pglite' });
  });

  it('is listed in full in .env.example and docs/configuration.md', () => {
    const example = readFileSync('.env.example', 'utf8');
    const listed = [...example.matchAll(/^# ([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    expect(listed.toSorted()).toEqual(CONFIG_VARIABLES.toSorted());
    const docs = readFileSync('docs/configuration.md', 'utf8');
    const rows = [...docs.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]);
    expect(rows.toSorted()).toEqual(CONFIG_VARIABLES.toSorted());
  });

  it('stops the process with a message naming the variable', () => {
    const run = spawnSync(process.execPath, ['server/main.ts'], {
      env: { PATH: process.env.PATH, PORT: 'abc' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/PORT/);
    expect(run.stderr).not.toMatch(/\s+at .*\.ts:\d+/);
  });

  it('stops a production start without DATABASE_URL, naming it', () => {
    const run = spawnSync(process.execPath, ['server/main.ts'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PUBLIC_URL: 'https://auth.example.com', SMTP_URL: 'smtp://127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^ {2}- DATABASE_URL: required in production/m);
  });
});
