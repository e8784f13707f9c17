// Graceful shutdown of the real process: on SIGTERM it fails readiness, serves on for SHUTDOWN_DELAY,
// stops accepting, finishes the requests in flight, closes the database and exits 0.
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild } from '../helpers/child.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { newAccount } from '../helpers/server.ts';

let keysDir: string;
const databases: TestDatabase[] = [];
beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'gatehouse-shutdown-'));
});
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
  await rm(keysDir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}) {
  const database = await createTestDatabase();
  databases.push(database);
  return startChild({ DATABASE_URL: database.url, KEYS_DIR: keysDir, ...env });
}

/** A raw HTTP/1.1 connection: write what you like, collect everything until the server closes it. */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<string>((resolve, reject) => {
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
  return { write: (text: string) => new Promise<void>((resolve) => socket.write(text, () => resolve())), closed };
}

const statusesOf = (raw: string) => [...raw.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 25));
}

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the request in flight, answers readiness 503, refuses new connections and exits 0', async () => {
    // A bcrypt cost high enough that a login is still running when the signal lands.
    const server = await start({ BCRYPT_COST: '13' });
    const account = newAccount();
    const reg = await fetch(`${server.url}/trpc/auth.register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });
    expect(reg.status).toBe(200);

    // A slow login in flight on one connection, and on another a readiness probe whose headers
    // are not complete yet (so the connection is busy, not idle, when the signal lands).
    const body = JSON.stringify(account);
    const inFlight = rawConnection(server.url);
    await inFlight.write(`POST /trpc/auth.login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const probe = rawConnection(server.url);
    await probe.write('GET /readyz HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 100));
    server.process.kill('SIGTERM');
    await until(() => server.logs.some((l) => l.includes('"draining"')));
    await probe.write('\r\n');

    const probed = await probe.closed;
    expect(statusesOf(probed)).toEqual([503]);
    expect(probed).toMatch(/"status":"draining"/);
    expect(probed).toMatch(/^connection: close/im);
    const finished = await inFlight.closed;
    expect(statusesOf(finished)).toEqual([200]);
    expect(finished).toMatch(/"accessToken"/);

    // The listener is gone: a new connection is refused.
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(await server.exited).toBe(0);
    const lines = server.logs.map((l) => JSON.parse(l));
    const at = (match: (l: any) => boolean) => lines.findIndex(match);
    const draining = at((l) => l.msg === 'draining');
    // The login really was in flight: it finished after the signal, before the stop.
    expect(at((l) => l.msg === 'request' && l.path === '/trpc/auth.login')).toBeGreaterThan(draining);
    expect(at((l) => l.msg === 'stopped')).toBeGreaterThan(at((l) => l.msg === 'request' && l.path === '/trpc/auth.login'));
  });

  it('stops the same way on SIGINT, without waiting for SHUTDOWN_DELAY', async () => {
    const server = await start({ SHUTDOWN_DELAY: '300' });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(await server.kill('SIGINT')).toBe(0);
    expect(server.logs.some((l) => l.includes('"signal":"SIGINT"'))).toBe(true);
  }, 60_000);

  it('with SHUTDOWN_DELAY, fails readiness at once, serves on through the delay, then drains with the full timeout', async () => {
    // Longer than the 15-second drain timeout: an exit 1 would mean the timeout counted from the signal.
    const server = await start({ SHUTDOWN_DELAY: '16' });
    const signalled = Date.now();
    server.process.kill('SIGTERM');
    await until(() => server.logs.some((l) => l.includes('"draining"')));

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    const discovery = await fetch(`${server.url}/oidc/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect((await discovery.json()).issuer).toBe(`${server.url}/oidc`);
    // Past the drain timeout, still inside the delay: new connections are still answered.
    await new Promise((r) => setTimeout(r, 15_500 - (Date.now() - signalled)));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    expect(await server.exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(16_000);
    const lines = server.logs.map((l) => JSON.parse(l));
    const at = (match: (l: any) => boolean) => lines.findIndex(match);
    expect(lines[at((l) => l.msg === 'draining')]).toMatchObject({ signal: 'SIGTERM', shutdownDelay: 16 });
    const delayOver = at((l) => l.msg === 'shutdown delay over; closing the listener');
    expect(delayOver).toBeGreaterThan(at((l) => l.msg === 'request' && l.path === '/healthz'));
    expect(at((l) => l.msg === 'stopped')).toBeGreaterThan(delayOver);
  }, 60_000);

  it('ends the delay at a second signal', async () => {
    const server = await start({ SHUTDOWN_DELAY: '300' });
    server.process.kill('SIGTERM');
    await until(() => server.logs.some((l) => l.includes('"draining"')));
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect(await server.kill('SIGTERM')).toBe(0);
    expect(server.logs.some((l) => l.includes('shutdown delay over'))).toBe(true);
  }, 60_000);
});
