// Entry: config → deps → app → listen; a graceful stop on SIGTERM and SIGINT.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { AppState } from './http/health.ts';
import { metricsListener } from './http/metrics-listener.ts';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { isStartRefusal } from './start-refusal.ts';

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
  const port = await listen(server, config.port, config.host);
  let metricsServer: Server | null = null;
  let metricsPort: number | null = null;
  if (config.metricsPort !== null) {
    metricsServer = createServer(metricsListener(deps.metrics));
    metricsPort = await listen(metricsServer, config.metricsPort, config.host);
  }

  const drain = () => {
    // No new connection is accepted, requests in flight finish, then the stores close.
    setTimeout(() => {
      deps.log.warn('requests still running at the drain timeout; cut off');
      process.exit(1);
    }, DRAIN_TIMEOUT_MS).unref();
    Promise.all([close(server), metricsServer && close(metricsServer)])
      .then(() => deps.close())
      .then(
        () => {
          deps.log.info('stopped');
          process.exit(0);
        },
        (error: unknown) => {
          deps.log.error({ err: error }, 'error while closing');
          process.exit(1);
        },
      );
  };

  let stopping = false;
  let endDelay: (() => void) | null = null;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal during the shutdown delay drains at once.
      endDelay?.();
      return;
    }
    stopping = true;
    // Readiness answers 503 from now on. Only SIGTERM (an orchestrator's stop) waits SHUTDOWN_DELAY,
    // serving meanwhile, so the load balancer stops routing here before the listener closes.
    state.draining = true;
    const delay = signal === 'SIGTERM' ? config.shutdownDelay : 0;
    deps.log.info({ signal, shutdownDelay: delay }, 'draining');
    if (delay === 0) return drain();
    const timer = setTimeout(() => endDelay?.(), delay * 1000);
    endDelay = () => {
      endDelay = null;
      clearTimeout(timer);
      deps.log.info('shutdown delay over; closing the listener');
      drain();
    };
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Announced only once the signals are handled: a stop sent on seeing this line is never missed.
  deps.log.info(
    { url: config.publicUrl, port, ...(metricsPort === null ? {} : { metricsPort }), issuer: config.issuer, database: deps.database.driver, rateLimitStore: deps.rateLimitStore.kind },
    'gatehouse listening',
  );
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting; idle connections close now, busy ones as soon as they go idle. */
function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  sweep.unref();
  return closed.finally(() => clearInterval(sweep));
}

main().catch((error: unknown) => {
  if (isStartRefusal(error)) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
  } else {
    process.stderr.write(`gatehouse: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
