// The benchmark harness (npm run bench) is not part of the suite, but it must not rot: its options
// parse as documented, and a one-second run of one scenario prints the JSON test/bench/README.md documents.
// No timing is asserted here: the numbers depend on the machine.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseOptions, SCENARIOS, UsageError } from '../bench/options.ts';

const run = promisify(execFile);

describe('bench options', () => {
  it('defaults to every scenario, 10 s, 50 connections, PGlite, one round', () => {
    expect(parseOptions([], {})).toEqual({ scenarios: [...SCENARIOS], duration: 10, connections: 50, db: 'pglite', rounds: 1, json: null, profile: null, bcryptCost: 12 });
  });

  it('takes scenarios repeated or comma-separated, in the documented order', () => {
    const options = parseOptions(['--scenario', 'process,login', '--scenario', 'me.get', '--duration', '2.5', '--db', 'postgres://u@127.0.0.1/x', '--json', 'out.json'], { BCRYPT_COST: '10' });
    expect(options).toMatchObject({ scenarios: ['login', 'me.get', 'process'], duration: 2.5, db: 'postgres://u@127.0.0.1/x', json: 'out.json', bcryptCost: 10 });
  });

  it('refuses unknown scenarios, options and databases', () => {
    expect(() => parseOptions(['--scenario', 'me.update'], {})).toThrow(UsageError);
    expect(() => parseOptions(['--threads', '4'], {})).toThrow(UsageError);
    expect(() => parseOptions(['--db', 'mysql://x'], {})).toThrow(UsageError);
    expect(() => parseOptions(['--duration', '0'], {})).toThrow(UsageError);
    expect(() => parseOptions(['--connections', '1.5'], {})).toThrow(UsageError);
  });
});

describe('npm run bench', () => {
  it('runs a short scenario and writes the documented JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-test-'));
    try {
      const file = join(dir, 'bench.json');
      const { stdout } = await run(process.execPath, ['test/bench/main.ts', '--scenario', 'client.verify', '--duration', '1', '--connections', '5', '--json', file], {
        cwd: new URL('../..', import.meta.url).pathname,
        timeout: 50_000,
      });
      expect(stdout).toContain('client.verify');
      const report = JSON.parse(await readFile(file, 'utf8'));
      expect(report.machine).toMatchObject({ cpus: expect.any(Number), node: expect.stringMatching(/^v\d+\./), db: 'pglite' });
      expect(report.scenarios).toHaveLength(1);
      const [scenario] = report.scenarios;
      expect(scenario).toMatchObject({
        name: 'client.verify',
        throughput: expect.any(Number),
        p50Ms: expect.any(Number),
        p99Ms: expect.any(Number),
        reference: { name: expect.any(String), throughput: expect.any(Number) },
        ratio: expect.any(Number),
        target: 0.95,
      });
      expect(scenario.failures).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
