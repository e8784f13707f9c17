// Redaction at the logger, and the run-wide guard's own check (the guard itself runs in the global
// teardown over every log line of the run: see helpers/log-capture.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/logger.ts';
import { findLeaks } from '../helpers/log-capture.ts';

describe('logger redaction', () => {
  it('cuts passwords, tokens, the Authorization header and cookies out of every line', () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const secrets = ['Hunter2-Password!', 'eyJhbGciOiJFUzI1NiJ9.secret.sig', 'opaque-refresh-0123456789', 'session=abc123def456', 'client-secret-value-42'];
    log.info({ password: secrets[0], newPassword: secrets[0], currentPassword: secrets[0] }, 'a');
    log.info({ input: { password: secrets[0], accessToken: secrets[1], refreshToken: secrets[2] } }, 'b');
    log.info({ req: { headers: { authorization: `Bearer ${secrets[1]}`, cookie: secrets[3] } }, res: { headers: { 'set-cookie': secrets[3] } } }, 'c');
    log.info({ body: { refresh_token: secrets[2], access_token: secrets[1], client_secret: secrets[4] }, token: secrets[1] }, 'd');
    const text = lines.join('');
    expect(lines).toHaveLength(4);
    expect(text).toContain('[redacted]');
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

describe('the run-wide leak search', () => {
  it('finds a recorded secret in a captured log, and nothing when there is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-leak-'));
    try {
      writeFileSync(join(dir, 'secrets-1.txt'), `${JSON.stringify('Planted-Secret-123')}\n${JSON.stringify('quote"d-secret-456')}\n`);
      writeFileSync(join(dir, 'log-1.jsonl'), '{"msg":"request","path":"/trpc/auth.login"}\n');
      expect(findLeaks(dir)).toEqual({ leaks: [], secrets: 2, logLines: 1 });
      writeFileSync(join(dir, 'log-2.jsonl'), `{"msg":"oops","body":"Planted-Secret-123"}\n{"x":${JSON.stringify('quote"d-secret-456')}}\n`);
      const { leaks } = findLeaks(dir);
      expect(leaks.map((l) => l.file).sort()).toEqual(['log-2.jsonl', 'log-2.jsonl']);
      expect(JSON.stringify(leaks)).not.toContain('Planted-Secret-123');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
