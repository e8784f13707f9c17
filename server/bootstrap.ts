// ADMIN_EMAIL / ADMIN_PASSWORD: the first admin, created at start when no active admin exists.
import type { Config } from './config.ts';
import { ConfigError } from './config.ts';
import type { Db } from '../db/client.ts';
import { AppError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Audit } from './services/audit.ts';
import type { Passwords } from './services/passwords.ts';
import { BUILT_IN_ROLES } from './common/permissions.ts';
import { anotherActiveAdminExists } from './services/roles.ts';
import { findUserByEmail, insertUser } from './services/users.ts';

export interface BootstrapDeps {
  config: Config;
  db: Db;
  audit: Audit;
  passwords: Passwords;
  log: Logger;
}

export async function ensureBootstrapAdmin({ config, db, audit, passwords, log }: BootstrapDeps): Promise<void> {
  if (!config.admin) return;
  const { email, password } = config.admin;
  if (await anotherActiveAdminExists(db, null)) return;
  if (await findUserByEmail(db, email)) {
    // Never promote an existing account: whoever registered the address first would become admin.
    log.warn({ email }, 'ADMIN_EMAIL belongs to an existing account that is not an active admin; not promoted (an admin can grant it the admin role, or set another ADMIN_EMAIL)');
    return;
  }
  try {
    passwords.assertStrong(password, [email.split('@')[0] ?? '']);
  } catch (error) {
    if (error instanceof AppError) throw new ConfigError([`ADMIN_PASSWORD: ${(error.details.fieldErrors?.password ?? [error.message]).join('; ')}`]);
    throw error;
  }
  try {
    const user = await insertUser(db, { email, passwordHash: await passwords.hash(password), roles: [BUILT_IN_ROLES.admin, BUILT_IN_ROLES.user] });
    await audit.record({ type: 'user_created', success: true, userId: user.id, ip: null, userAgent: null, metadata: { source: 'ADMIN_EMAIL', roles: ['admin', 'user'] } });
    log.info({ userId: user.id }, 'bootstrap admin created');
  } catch (error) {
    // Another instance starting at the same moment created it first.
    if (!(error instanceof AppError && error.code === 'EMAIL_TAKEN')) throw error;
  }
}
