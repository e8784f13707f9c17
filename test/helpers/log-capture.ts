// The log-redaction guard of the whole test run. Every service a test starts, in process or as a
// child process, appends its log lines to a file per worker under GATEHOUSE_TEST_LOG_DIR, and the
// helpers record every password they send and every token they receive. After the last test file,
// the global teardown (test/global-setup.ts) searches all the logs for all the secrets and fails
// the run on any hit.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = () => process.env.GATEHOUSE_TEST_LOG_DIR;

/** Short values (a test's "weak" password) would match by accident; they protect nothing anyway. */
const MIN_SECRET_LENGTH = 10;

export function recordSecret(value: unknown): void {
  const target = dir();
  if (!target || typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  appendFileSync(join(target, `secrets-${process.pid}.txt`), `${JSON.stringify(value)}\n`);
}

const SECRET_KEYS = new Set(['password', 'newPassword', 'currentPassword', 'accessToken', 'refreshToken', 'access_token', 'refresh_token', 'id_token', 'client_secret', 'clientSecret', 'token', 'mfaToken', 'enrollmentToken', 'secret', 'recoveryCode', 'recoveryCodes']);

/** Records every value under a secret-looking key, however deep. */
export function recordSecretsIn(value: unknown): void {
  if (Array.isArray(value)) for (const item of value) recordSecretsIn(item);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (SECRET_KEYS.has(key)) for (const item of Array.isArray(inner) ? inner : [inner]) recordSecret(item);
      else recordSecretsIn(inner);
    }
  }
}

export function captureLogLines(lines: string[]): void {
  const target = dir();
  if (!target || lines.length === 0) return;
  appendFileSync(join(target, `log-${process.pid}.jsonl`), `${lines.join('\n')}\n`);
}

export function logCaptureFile(name: string): string | undefined {
  const target = dir();
  return target ? join(target, `log-${name}.jsonl`) : undefined;
}

export interface Leak {
  secret: string;
  file: string;
}

/** Every secret found in any log file of `logDir`, reported by its first characters only. */
export function findLeaks(logDir: string): { leaks: Leak[]; secrets: number; logLines: number } {
  const files = readdirSync(logDir);
  const secrets = new Set<string>();
  for (const file of files.filter((f) => f.startsWith('secrets-'))) {
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) if (line) secrets.add(JSON.parse(line) as string);
  }
  const leaks: Leak[] = [];
  let logLines = 0;
  for (const file of files.filter((f) => f.startsWith('log-'))) {
    const text = readFileSync(join(logDir, file), 'utf8');
    logLines += text.split('\n').filter(Boolean).length;
    for (const secret of secrets) {
      // JSON logs escape some characters; look for the raw and the escaped spelling.
      if (text.includes(secret) || text.includes(JSON.stringify(secret).slice(1, -1))) leaks.push({ secret: `${secret.slice(0, 4)}…`, file });
    }
  }
  return { leaks, secrets: secrets.size, logLines };
}
