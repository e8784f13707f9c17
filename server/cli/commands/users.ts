// user:* commands: the admin API's user management, as the operator (every permission, actorId null).
import { z } from 'zod';
import type { UserRow } from '../../../db/schema/index.ts';
import { cursorInput } from '../../common/cursor.ts';
import { email as emailInput, intOrText, name as nameInput } from '../../common/inputs.ts';
import type { User } from '../../common/outputs.ts';
import type { Deps } from '../../deps.ts';
import { AppError } from '../../errors.ts';
import { operator } from '../../services/rbac.ts';
import { findUserByEmail } from '../../services/users.ts';
import { checked, defineCommand } from '../command.ts';
import { table } from '../output.ts';
import { readPassword } from '../password.ts';

const emailOption = { type: 'string', arg: 'E', required: true, help: "the user's email address (any case)" } as const;

async function userByEmail(deps: Deps, email: string): Promise<UserRow> {
  const row = await findUserByEmail(deps.database.db, email);
  if (!row) throw new AppError('NOT_FOUND', `no user with the email ${email}`);
  return row;
}

const who = (user: User) => `${user.id} <${user.email}>`;

export const userCreate = defineCommand({
  name: 'user:create',
  summary: 'create a user; the password from standard input or a hidden prompt',
  description: `
Creates a user. The password is read from standard input (one line) when it is piped, or asked for
twice at a hidden prompt; it is never taken as an argument. It must pass PASSWORD_POLICY.`,
  options: {
    email: emailOption,
    name: { type: 'string', arg: 'N', help: "the user's name" },
    role: { type: 'string', arg: 'R', multiple: true, help: 'a role to grant; may repeat (default: user)' },
  },
  async run({ values, config, withDeps }) {
    const email = checked('email', emailInput, values.email);
    const name = values.name === undefined ? undefined : checked('name', nameInput, values.name);
    const { mfaRequiredRoles } = config();
    const password = await readPassword();
    return withDeps(async (deps) => {
      const user = await deps.userAdmin.create({ email, password, name, roles: values.role ?? ['user'] }, operator());
      const enrols = user.roles.filter((role) => mfaRequiredRoles.includes(role));
      const note = enrols.length > 0 ? `\nMFA_REQUIRED_ROLES names ${enrols.join(', ')}: the first sign-in sets up a second factor before any tokens.` : '';
      return { data: user, text: `created user ${who(user)} roles: ${user.roles.join(', ')}${note}` };
    });
  },
});

const minute = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

export const userList = defineCommand({
  name: 'user:list',
  summary: 'list users, newest first, with filters',
  description: `
Lists users, newest first, a page at a time. --query matches part of the email or the name, in any
case. The JSON is { items, nextCursor, total }: pass nextCursor as --cursor for the next page.`,
  options: {
    query: { type: 'string', arg: 'TEXT', help: 'only users whose email or name contains TEXT' },
    role: { type: 'string', arg: 'R', help: 'only users with the role R' },
    status: { type: 'string', arg: 'active|disabled', help: 'only active, or only disabled, users' },
    limit: { type: 'string', arg: 'N', help: 'users per page, 1 to 100 (default: 20)' },
    cursor: { type: 'string', arg: 'C', help: 'the page after the one that answered this nextCursor' },
  },
  async run({ values, withDeps }) {
    const input = {
      search: values.query === undefined ? undefined : checked('query', z.string().trim().max(200, 'Too long'), values.query),
      role: values.role === undefined ? undefined : checked('role', z.string().min(1).max(50), values.role),
      isActive: values.status === undefined ? undefined : checked('status', z.enum(['active', 'disabled'], 'Must be active or disabled'), values.status) === 'active',
      limit: values.limit === undefined ? undefined : checked('limit', intOrText(1, 100), values.limit),
      cursor: values.cursor === undefined ? undefined : checked('cursor', cursorInput, values.cursor),
    };
    return withDeps(async (deps) => {
      const page = await deps.userAdmin.list(input);
      const rows = page.items.map((u) => [u.email, u.name ?? '-', u.roles.join(',') || '-', u.isActive ? 'active' : 'disabled', u.mfaEnabled ? 'on' : 'off', minute(u.createdAt), minute(u.lastLoginAt), u.id]);
      const listed = rows.length === 0 ? 'no users match' : table(['EMAIL', 'NAME', 'ROLES', 'STATUS', 'MFA', 'CREATED', 'LAST SIGN-IN', 'ID'], rows);
      const more = page.nextCursor ? `; the next page: --cursor ${page.nextCursor}` : '';
      return { data: page, text: `${listed}\n${page.items.length} of ${page.total} users${more}` };
    });
  },
});

/** user:disable and user:enable: the same change, to either state; a user already there is left as is. */
function activeSwitch({ name, summary, description, isActive, done }: { name: string; summary: string; description: string; isActive: boolean; done: (user: User) => string }) {
  return defineCommand({
    name,
    summary,
    description,
    options: { email: emailOption },
    async run({ values, withDeps }) {
      const email = checked('email', emailInput, values.email);
      return withDeps(async (deps) => {
        const row = await userByEmail(deps, email);
        if (row.isActive === isActive) {
          const user = await deps.userAdmin.get(row.id);
          return { data: user, text: `${who(user)} was already ${isActive ? 'active' : 'disabled'}` };
        }
        const user = await deps.userAdmin.update({ id: row.id, isActive }, operator());
        return { data: user, text: done(user) };
      });
    },
  });
}

export const userDisable = activeSwitch({
  name: 'user:disable',
  summary: "disable a user: sign-in refused, every session and token ended",
  description: `
Disables a user, as admin.users.update({ isActive: false }) does: sign-in is refused and every
session of theirs ends, with its access and refresh tokens. The last active admin cannot be
disabled. user:enable undoes it.`,
  isActive: false,
  done: (user) => `disabled ${who(user)}: every session of theirs ended`,
});

export const userEnable = activeSwitch({
  name: 'user:enable',
  summary: 'enable a disabled user again',
  description: `
Lets a disabled user sign in again, with the password they had. Sessions ended when the user was
disabled stay ended.`,
  isActive: true,
  done: (user) => `enabled ${who(user)}`,
});

export const userResetPassword = defineCommand({
  name: 'user:reset-password',
  summary: "set a user's password; every session of theirs ends",
  description: `
Sets a new password for a user who cannot use the mailed reset link. The password is read like
user:create's: one line of standard input, or a hidden prompt. It must pass PASSWORD_POLICY. Every
session of the user ends and every mailed link of theirs is void; the change is audited
(password_reset, reason admin_reset).`,
  options: { email: emailOption },
  async run({ values, withDeps }) {
    const email = checked('email', emailInput, values.email);
    return withDeps(async (deps) => {
      // The address is checked before the password is asked for.
      const row = await userByEmail(deps, email);
      const user = await deps.userAdmin.setPassword(row.id, await readPassword(), operator());
      const disabled = user.isActive ? '' : '\nThe account is disabled: user:enable lets them sign in.';
      return { data: user, text: `set a new password for ${who(user)}: every session of theirs ended${disabled}` };
    });
  },
});

export const userResetMfa = defineCommand({
  name: 'user:reset-mfa',
  summary: "clear a user's second factor (authenticator app and recovery codes)",
  description: `
Clears the user's second factor, e.g. for an admin who lost both the authenticator app and the
recovery codes. The user signs in with the password alone, or enrols again where
MFA_REQUIRED_ROLES asks for it.`,
  options: { email: emailOption },
  async run({ values, withDeps }) {
    const email = checked('email', emailInput, values.email);
    return withDeps(async (deps) => {
      const row = await userByEmail(deps, email);
      await deps.mfa.reset(row.id, operator());
      const user = await deps.userAdmin.get(row.id);
      return { data: user, text: `cleared the second factor of ${who(user)}` };
    });
  },
});
