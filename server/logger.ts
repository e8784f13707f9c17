import { pino, stdSerializers, type Logger } from 'pino';

export type { Logger };

// Credentials are cut out of every log line, at the top level or nested up to four objects deep.
const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'clientSecret',
  'authorization',
  'cookie',
  '["set-cookie"]',
];
const REDACT = SECRET_KEYS.flatMap((key) => {
  const tail = key.startsWith('[') ? key : `.${key}`;
  return [key.startsWith('[') ? key.slice(2, -2) : key, `*${tail}`, `*.*${tail}`, `*.*.*${tail}`, `*.*.*.*${tail}`];
});

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** A database error as the log may show it: SQLSTATE, constraint, table, column and our stack; never the
 *  statement, its parameters or the server's message, which carry the values a failed write was given. */
function databaseError(error: Error): Record<string, unknown> | null {
  let query = false;
  let server: Record<string, unknown> | null = null;
  let system: { code?: unknown; message?: unknown } | null = null;
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const fields = e as Record<string, unknown>;
    // Drizzle's wrapper writes the statement and its parameters into its own message.
    if (fields.name === 'DrizzleQueryError') query = true;
    else if (typeof fields.code === 'string' && SQLSTATE.test(fields.code) && typeof fields.severity === 'string') {
      server ??= { code: fields.code, constraint: fields.constraint ?? fields.constraint_name, table: fields.table ?? fields.table_name, column: fields.column ?? fields.column_name };
    } else if (query) system ??= { code: fields.code, message: fields.message };
  }
  if (!query && !server) return null;
  return {
    type: 'DatabaseError',
    message: 'database query failed',
    ...(server ?? { code: system?.code, cause: system?.message }),
    stack: error.stack?.split('\n').filter((line) => line.trimStart().startsWith('at ')).join('\n'),
  };
}

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return stdSerializers.err(error as Error);
  return databaseError(error) ?? stdSerializers.err(error);
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'gatehouse' }, serializers: { err: serializeError } },
    destination ?? process.stdout,
  );
}
