// Entry: config → deps → app → listen; a graceful stop on SIGTERM and SIGINT.
import { createServer } from 'node:http';
import { createApp, type AppState } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { KeysMissingError } from './oidc/keystore.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config);
  const state: AppState = { draining: false };
  const server = createServer(createApp(deps, state).callback());
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  deps.log.info({ url: config.publicUrl, issuer: config.issuer, database: deps.database.driver }, 'gatehouse listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    state.draining = true;
    deps.log.info({ signal }, 'draining');
    // Stop accepting, let requests in flight finish, then close the database.
    server.close(async () => {
      await deps.close();
      deps.log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof KeysMissingError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
  } else {
    process.stderr.write(`gatehouse: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
