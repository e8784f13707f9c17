// Operator CLI: `npm run cli -- <command> [options]`. Passwords come from standard input or a hidden
// prompt, never from arguments, which end up in shell history and process listings.
import { createInterface } from 'node:readline';
import { openDatabase } from '../db/client.ts';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createDeps, type Deps } from './deps.ts';
import { AppError } from './errors.ts';
import { createLogger } from './logger.ts';
import { CLIENT_GRANT_TYPES, type ClientGrantType } from './services/clients.ts';
import { operator } from './services/rbac.ts';
import { findUserByEmail } from './services/users.ts';

const USAGE = `usage: npm run cli -- <command>

commands:
  user:create --email E [--name N] [--role R ...]
      creates a user; the password is read from standard input (one line) or asked for
      at a hidden prompt. --role may repeat; default: user.
  user:reset-mfa --email E
      clears the user's second factor (authenticator app and recovery codes), e.g. for an
      admin who lost both. The user signs in with the password alone, or enrols again where
      MFA_REQUIRED_ROLES asks for it.
  clients:create --name N --grant-type G [--grant-type G ...] [--redirect-uri U ...]
                 [--post-logout-redirect-uri U ...] [--scope S ...] [--public] [--first-party]
                 [--no-pkce-required]
      registers an OAuth client and prints its id and, for a confidential client, its
      secret: shown this once, stored only as a digest. --no-pkce-required exempts a
      confidential client from PKCE, for relying parties that cannot send it.
  keys:rotate
      adds a new signing key pair to KEYS_DIR. It is published at once; each instance signs
      with it from its next start. Superseded keys stay published until their tokens expired.
`;

class UsageError extends Error {}

/** The service's own wiring, without its timers, for one command. */
async function withDeps(config: Config, run: (deps: Deps) => Promise<void>): Promise<void> {
  const deps = await createDeps(config, { log: createLogger('silent'), purgeIntervalMs: 0, mail: { pollMs: 0 }, keyPollMs: 0 });
  try {
    await run(deps);
  } finally {
    await deps.close();
  }
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.replace(/\r?\n$/, '');
  }
  const ask = (prompt: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      // Echo nothing of what is typed.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(prompt)) process.stderr.write(prompt);
      };
      rl.question(prompt, (answer) => {
        rl.close();
        process.stderr.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  if ((await ask('Repeat password: ')) !== first) throw new UsageError('passwords do not match');
  return first;
}

async function userCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', multiple: true } },
    strict: true,
  });
  const email = values.email;
  if (!email) throw new UsageError('--email is required');
  const config = loadConfig();
  const password = await readPassword();
  await withDeps(config, async (deps) => {
    try {
      const user = await deps.userAdmin.create({ email: email.trim().toLowerCase(), password, name: values.name, roles: values.role ?? ['user'] }, operator());
      process.stdout.write(`created user ${user.id} <${user.email}> roles: ${user.roles.join(', ')}\n`);
      const enrols = user.roles.filter((role) => config.mfaRequiredRoles.includes(role));
      if (enrols.length > 0) process.stdout.write(`MFA_REQUIRED_ROLES names ${enrols.join(', ')}: the first sign-in sets up a second factor before any tokens.\n`);
    } catch (error) {
      if (error instanceof AppError && error.code === 'WEAK_PASSWORD') throw new UsageError(`password refused: ${error.details.fieldErrors?.password?.join('; ')}`);
      throw error;
    }
  });
}

async function userResetMfa(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' } }, strict: true });
  if (!values.email) throw new UsageError('--email is required');
  await withDeps(loadConfig(), async (deps) => {
    const user = await findUserByEmail(deps.database.db, values.email!);
    if (!user) throw new Error(`no user with the email ${values.email}`);
    await deps.mfa.reset(user.id, operator());
    process.stdout.write(`cleared the second factor of ${user.id} <${user.email}>\n`);
  });
}

async function clientsCreate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      'grant-type': { type: 'string', multiple: true },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      public: { type: 'boolean' },
      'first-party': { type: 'boolean' },
      'pkce-required': { type: 'boolean', default: true },
    },
    strict: true,
    allowNegative: true,
  });
  const name = values.name;
  if (!name) throw new UsageError('--name is required');
  const grantTypes = values['grant-type'] ?? [];
  const unknown = grantTypes.filter((g) => !(CLIENT_GRANT_TYPES as readonly string[]).includes(g));
  if (unknown.length > 0 || grantTypes.length === 0) throw new UsageError(`--grant-type must be one of ${CLIENT_GRANT_TYPES.join(', ')}`);
  await withDeps(loadConfig(), async (deps) => {
    const created = await deps.clientAdmin.create(
      {
        name,
        grantTypes: grantTypes as ClientGrantType[],
        redirectUris: values['redirect-uri'],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        scopes: values.scope,
        public: values.public ?? false,
        firstParty: values['first-party'] ?? false,
        pkceRequired: values['pkce-required'],
      },
      operator(),
    );
    process.stdout.write(`client_id: ${created.clientId}\n`);
    if (created.clientSecret) process.stdout.write(`client_secret: ${created.clientSecret}\n(shown once: it is stored only as a digest)\n`);
  });
}

async function keysRotate(args: string[]): Promise<void> {
  parseArgs({ args, options: {}, strict: true });
  await withDeps(loadConfig(), async (deps) => {
    const { added, retiring, removed } = await deps.signingKeys.rotate(operator());
    process.stdout.write(`staged keys: ${added.map((k) => `${k.kid} (${k.alg})`).join(', ')}\n`);
    process.stdout.write(`published now; they sign from ${added[0]!.activatesAt.toISOString()}, when ${retiring.length} key(s) in service retire\n`);
    if (removed.length > 0) process.stdout.write(`removed retired keys: ${removed.join(', ')}\n`);
  });
}

async function migrate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const applied: string[] = [];
  const database = await openDatabase(loadConfig().database, { onApplied: (name) => applied.push(name) });
  await database.close();
  if (values.json) process.stdout.write(`${JSON.stringify({ applied })}\n`);
  else process.stdout.write(applied.length === 0 ? 'the database is up to date\n' : applied.map((name) => `applied ${name}\n`).join(''));
}

async function keysList(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  await withDeps(loadConfig(), async (deps) => {
    const keys = await deps.signingKeys.list();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ keys })}\n`);
      return;
    }
    const at = (d: Date | null) => d?.toISOString() ?? '-';
    process.stdout.write(`${'kid'.padEnd(44)}  alg    state    ${'activates'.padEnd(24)}  ${'retires'.padEnd(24)}  removed\n`);
    for (const k of keys) process.stdout.write(`${k.kid.padEnd(44)}  ${k.alg}  ${k.state.padEnd(7)}  ${at(k.activatesAt).padEnd(24)}  ${at(k.retiredAt).padEnd(24)}  ${at(k.removedAt)}\n`);
  });
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  migrate,
  'keys:list': keysList,
  'user:create': userCreate,
  'user:reset-mfa': userResetMfa,
  'clients:create': clientsCreate,
  'keys:rotate': keysRotate,
};

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const run = command ? commands[command] : undefined;
  if (!run) throw new UsageError(command ? `unknown command: ${command}` : 'no command given');
  await run(args);
}

main().catch((error: unknown) => {
  if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`gatehouse: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof ConfigError) process.stderr.write(`gatehouse: ${error.message}\n`);
  else if (error instanceof AppError) {
    const details = error.details.fieldErrors ? ` (${Object.entries(error.details.fieldErrors).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ')})` : '';
    process.stderr.write(`gatehouse: ${error.message}${details}\n`);
  } else process.stderr.write(`gatehouse: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
