// Liveness, readiness and the Prometheus scrape.
import type { Middleware } from 'koa';
import type { Database } from '../../db/client.ts';
import type { Metrics } from '../metrics.ts';

export interface AppState {
  /** Set while the process drains on shutdown: readiness then answers 503. */
  draining: boolean;
}

/** metrics: null when the scrape has a port of its own (METRICS_PORT); /metrics is then a 404 here. */
export function health({ database, metrics, state }: { database: Database; metrics: Metrics | null; state: AppState }): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      const ready = !state.draining && (await database.ping().then(() => true, () => false));
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : state.draining ? 'draining' : 'database unavailable' };
      return;
    }
    if (ctx.path === '/metrics' && metrics) {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
      return;
    }
    await next();
  };
}
