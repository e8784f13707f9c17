import { pino, type Logger } from 'pino';

export type { Logger };

// Anything that works as a credential is cut out of every log line, wherever it appears: at the
// top level or nested up to four objects deep (pino's wildcards match one level each).
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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'gatehouse' } },
    destination ?? process.stdout,
  );
}
