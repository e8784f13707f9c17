// The one wiring point: every service is made here from the config, in dependency order.
import { openDatabase, type Database } from '../db/client.ts';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createAdapterFactory, purgeExpiredOidcRows } from './oidc/adapter.ts';
import { createPublishedKeys, loadKeys, type Keys, type PublishedKeys } from './oidc/keystore.ts';
import { loadClientsFile, validateStaticClients } from './oidc/clients-file.ts';
import { createClientAdmin, type ClientAdmin } from './services/clients.ts';
import { ensureBootstrapAdmin } from './bootstrap.ts';
import { createProvider } from './oidc/provider.ts';
import { trackTokenEndpoint } from './oidc/token-events.ts';
import { createTokenService, type TokenService } from './oidc/tokens.ts';
import { createAudit, type Audit } from './services/audit.ts';
import { createAuthService, type AuthService } from './services/auth.ts';
import { createUserAdmin, type UserAdmin } from './services/admin-users.ts';
import { createRoleAdmin, type RoleAdmin } from './services/roles.ts';
import { createPasswords, type Passwords } from './services/passwords.ts';
import { purgeExpiredSessions } from './services/sessions.ts';
import type Provider from 'oidc-provider';

export interface DepsOptions {
  log?: Logger;
  /** See AdapterOptions.refreshGraceSeconds. */
  refreshGraceSeconds?: number;
  /** How often expired store rows are purged; 0 turns the timer off. */
  purgeIntervalMs?: number;
}

export interface Deps {
  config: Config;
  log: Logger;
  database: Database;
  keys: Keys;
  /** The JWKS as published now: follows rotations made while running. */
  published: PublishedKeys;
  provider: Provider;
  passwords: Passwords;
  audit: Audit;
  tokens: TokenService;
  auth: AuthService;
  userAdmin: UserAdmin;
  roleAdmin: RoleAdmin;
  clientAdmin: ClientAdmin;
  /** Stops timers and closes the database. */
  close(): Promise<void>;
}

export const DEFAULT_REFRESH_GRACE_SECONDS = 5;

/**
 * How long a superseded signing key stays published and trusted: a day (time to restart every
 * instance onto the new key) plus the longest lifetime of a token it signs.
 */
export function keyRetentionSeconds(config: Config): number {
  return 86_400 + config.accessTokenTtl;
}

export async function createDeps(config: Config, options: DepsOptions = {}): Promise<Deps> {
  const log = options.log ?? createLogger(config.logLevel);
  const keys = await loadKeys(config.keysDir, { allowGenerate: config.env !== 'production', retentionSeconds: keyRetentionSeconds(config) });
  const database = await openDatabase(config.database);
  try {
    return await wire(config, options, log, keys, database);
  } catch (error) {
    await database.close();
    throw error;
  }
}

async function wire(config: Config, options: DepsOptions, log: Logger, keys: Keys, database: Database): Promise<Deps> {
  const { db } = database;

  const adapter = createAdapterFactory(db, { refreshGraceSeconds: options.refreshGraceSeconds ?? DEFAULT_REFRESH_GRACE_SECONDS });
  const staticClients = config.clientsFile ? await loadClientsFile(config.clientsFile) : [];
  const provider = createProvider({ config, db, keys, adapter, staticClients });
  await validateStaticClients(provider, staticClients);
  const published = createPublishedKeys(config.keysDir, keys, { retentionSeconds: keyRetentionSeconds(config) });
  const audit = createAudit(db);
  trackTokenEndpoint(provider, { db, audit });
  const passwords = await createPasswords(config.bcryptCost);
  const tokens = createTokenService({ provider, config, db, published });
  const auth = createAuthService({ config, db, audit, passwords, tokens });
  const userAdmin = createUserAdmin({ db, audit, passwords, assertStrong: auth.assertStrong });
  const roleAdmin = createRoleAdmin({ db, audit });
  const clientAdmin = createClientAdmin({ db, audit, provider });
  await ensureBootstrapAdmin({ config, db, audit, passwords, log, assertStrong: auth.assertStrong });

  const purge = async () => {
    try {
      await purgeExpiredOidcRows(db);
      await purgeExpiredSessions(db);
    } catch (error) {
      log.warn({ err: error }, 'purge of expired rows failed');
    }
  };
  const purgeMs = options.purgeIntervalMs ?? 10 * 60 * 1000;
  const timer = purgeMs > 0 ? setInterval(purge, purgeMs).unref() : undefined;

  return {
    config,
    log,
    database,
    keys,
    published,
    provider,
    passwords,
    audit,
    tokens,
    auth,
    userAdmin,
    roleAdmin,
    clientAdmin,
    async close() {
      clearInterval(timer);
      await database.close();
    },
  };
}
