// METRICS_PORT: the scrape on a listener of its own, bound to HOST, and gone from the main port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startChild, type ChildServer } from '../helpers/child.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let keysDir: string;
let database: TestDatabase;
let server: ChildServer;
let metricsUrl: string;
beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'gatehouse-metrics-port-'));
  database = await createTestDatabase();
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}`;
  server = await startChild({ DATABASE_URL: database.url, KEYS_DIR: keysDir, METRICS_PORT: String(metricsPort) });
});
afterAll(async () => {
  await server?.kill();
  await database?.drop();
  await rm(keysDir, { recursive: true, force: true });
});

describe('METRICS_PORT', () => {
  it('serves /metrics on its own port, and the main port answers 404 for it', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);

    const scrape = await fetch(`${metricsUrl}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await scrape.text();
    expect(text).toMatch(/^gatehouse_db_pool_connections\{state="max"\} \d+$/m);
    // The main port's traffic is counted in the registry scraped here.
    expect(text).toMatch(/gatehouse_http_request_duration_seconds_count\{method="GET",route="healthz",status="200"\} 1/);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves nothing else on the metrics port', async () => {
    for (const path of ['/healthz', '/readyz', '/oidc/.well-known/openid-configuration', '/trpc/auth.verify', '/metrics/x']) {
      expect((await fetch(`${metricsUrl}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(404);
  });

  it('names the port in the start line, and closes it at shutdown', async () => {
    const started = JSON.parse(server.logs.find((l) => l.includes('"gatehouse listening"'))!);
    expect(started.metricsPort).toBe(Number(new URL(metricsUrl).port));
    expect(await server.kill('SIGTERM')).toBe(0);
    await expect(fetch(`${metricsUrl}/metrics`)).rejects.toThrow();
  });
});
