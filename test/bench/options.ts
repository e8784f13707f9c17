// Command-line options of `npm run bench`. Parsing is kept apart from running, so a test can check
// it without starting anything.
import { parseArgs } from 'node:util';

export const SCENARIOS = ['login', 'me.get', 'auth.verify', 'refresh', 'token.client_credentials', 'client.verify', 'admin.users.list', 'process'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
  scenarios: ScenarioName[];
  /** Seconds of measured load per run (each run also gets a short warm-up that is not counted). */
  duration: number;
  /** Concurrent connections for the HTTP scenarios other than login, which always uses 50. */
  connections: number;
  /** 'pglite' or a PostgreSQL URL: the server on which a fresh database is created and dropped. */
  db: 'pglite' | string;
  /** Each service/reference pair is measured this many times, alternating; medians are reported. */
  rounds: number;
  json: string | null;
  /** Run the service and the reference servers with --cpu-prof, writing .cpuprofile files here. */
  profile: string | null;
  bcryptCost: number;
}

export const USAGE = `usage: npm run bench -- [options]
  --scenario NAME    run only this scenario (repeatable; comma-separated also works)
                     ${SCENARIOS.join(', ')}
  --duration S       seconds of measured load per run (default 10)
  --connections N    concurrent connections (default 50; login always uses 50)
  --db pglite|URL    PGlite in a temporary directory (default), or a PostgreSQL server URL on which
                     a database with a random name is created and dropped afterwards
  --rounds N         measure each service/reference pair N times, alternating; report medians (default 1)
  --json FILE        also write the results as JSON
  --profile DIR      run the service and the reference servers under --cpu-prof, profiles in DIR
  --bcrypt-cost N    BCRYPT_COST for the service and the bcrypt reference (default: $BCRYPT_COST or 12)`;

export class UsageError extends Error {}

function positive(name: string, value: string | undefined, fallback: number, { integer = true } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not ${JSON.stringify(value)}`);
  return n;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string', multiple: true },
        duration: { type: 'string' },
        connections: { type: 'string' },
        db: { type: 'string' },
        rounds: { type: 'string' },
        json: { type: 'string' },
        profile: { type: 'string' },
        'bcrypt-cost': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) throw new UsageError('');

  const requested = (values.scenario ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const unknown = requested.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(', ')}; one of ${SCENARIOS.join(', ')}`);
  // Always in the documented order, whatever order they were named in.
  const scenarios = requested.length > 0 ? SCENARIOS.filter((s) => requested.includes(s)) : [...SCENARIOS];

  const db = values.db ?? 'pglite';
  if (db !== 'pglite' && !/^postgres(ql)?:\/\/./.test(db)) throw new UsageError(`--db must be pglite or a postgres:// URL, not ${JSON.stringify(db)}`);

  const cost = positive('bcrypt-cost', values['bcrypt-cost'] ?? env.BCRYPT_COST, 12);
  if (cost < 4 || cost > 31) throw new UsageError('--bcrypt-cost must be between 4 and 31');

  return {
    scenarios,
    duration: positive('duration', values.duration, 10, { integer: false }),
    connections: positive('connections', values.connections, 50),
    db,
    rounds: positive('rounds', values.rounds, 1),
    json: values.json ?? null,
    profile: values.profile ?? null,
    bcryptCost: cost,
  };
}
