// Entry: config → deps → app → listen; a graceful stop on SIGTERM and SIGINT.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { AppState } from './http/health.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { PendingMigrationsError } from '../db/client.ts';
import { KeysMissingError } from './oidc/keystore.ts';
import { WrongEncryptionKeyError } from './services/signing-keys.ts';

const DRAIN_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config);
  const state: AppState = { draining: false };
  const handle = createApp(deps, state);
  const server = createServer((req, res) => {
    // While draining, every answer closes its connection, so keep-alive clients move on.
    if (state.draining) res.setHeader('Connection', 'close');
    handle(req, res);
  });
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  deps.log.info({ url: config.publicUrl, port, issuer: config.issuer, database: deps.database.driver, rateLimitStore: deps.rateLimitStore.kind }, 'gatehouse listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Readiness answers 503, no new connection is accepted, requests in flight finish, then the stores close.
    state.draining = true;
    deps.log.info({ signal }, 'draining');
    server.close(() => {
      deps.close().then(
        () => {
          deps.log.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          deps.log.error({ err: error }, 'error while closing');
          process.exit(1);
        },
      );
    });
    // Connections busy at the signal go idle only later: sweep them until the server has closed.
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 100).unref();
    setTimeout(() => {
      deps.log.warn('requests still running at the drain timeout; cut off');
      process.exit(1);
    }, DRAIN_TIMEOUT_MS).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if ([ConfigError, KeysMissingError, WrongEncryptionKeyError, PendingMigrationsError].some((known) => error instanceof known)) {
    process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
  } else {
    process.stderr.write(`gatehouse: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
