// Run-wide set-up: a directory for the captured logs and recorded secrets of every worker, scanned
// after the last test file (see helpers/log-capture.ts). A leak fails the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLeaks } from './helpers/log-capture.ts';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-logs-'));
  process.env.GATEHOUSE_TEST_LOG_DIR = dir;
  return () => {
    try {
      const { leaks, secrets, logLines } = findLeaks(dir);
      if (leaks.length > 0) {
        // vitest reports an error thrown here but still exits 0: set the exit code too.
        process.exitCode = 1;
        throw new Error(`log redaction: ${leaks.length} secret(s) used by the tests appear in the service logs: ${leaks.map((l) => `${l.secret} in ${l.file}`).join(', ')}`);
      }
      // Secrets without a single log line means the capture itself broke.
      if (secrets > 0 && logLines === 0) {
        process.exitCode = 1;
        throw new Error(`log redaction: nothing to check (${secrets} secrets, ${logLines} log lines): the capture is broken`);
      }
      process.stdout.write(`log redaction: ${secrets} secrets searched for in ${logLines} log lines, none found\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
