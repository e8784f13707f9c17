// Prometheus metrics, one registry per app instance (tests run several in one process). Label
// values come from small closed sets: never a raw path, an id, an email or an IP.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface PoolStats {
  max: number;
  active: number;
  idle: number;
}

export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  logins: Counter<'outcome'>;
  loginFactors: Counter<'factor'>;
  tokensIssued: Counter<'grant'>;
  rateLimitRejections: Counter<'limit' | 'counter'>;
  refreshReuseDetected: Counter;
  auditWriteFailures: Counter<'type'>;
  mailDeliveries: Counter<'kind' | 'outcome'>;
}

export function createMetrics({ poolStats }: { poolStats: () => Promise<PoolStats> }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const pool = new Gauge({
    name: 'gatehouse_db_pool_connections',
    help: 'Database connections of this instance, by state (max is the pool size)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const stats = await poolStats();
        this.set({ state: 'max' }, stats.max);
        this.set({ state: 'active' }, stats.active);
        this.set({ state: 'idle' }, stats.idle);
      } catch {
        // The database is away: readiness says so; the scrape still answers.
      }
    },
  });
  void pool;

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'HTTP requests by method, route name and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    logins: new Counter({ name: 'gatehouse_logins_total', help: 'Sign-in attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    loginFactors: new Counter({ name: 'gatehouse_logins_by_factor_total', help: 'Successful sign-ins by the factors used (pwd, pwd+totp, pwd+recovery_code)', labelNames: ['factor'], registers: [registry] }),
    tokensIssued: new Counter({ name: 'gatehouse_tokens_issued_total', help: 'Access tokens issued, by grant', labelNames: ['grant'], registers: [registry] }),
    rateLimitRejections: new Counter({
      name: 'gatehouse_rate_limit_rejections_total',
      help: 'Requests refused by a rate limit, by limit and counter',
      labelNames: ['limit', 'counter'],
      registers: [registry],
    }),
    refreshReuseDetected: new Counter({ name: 'gatehouse_refresh_reuse_detected_total', help: 'Rotated refresh tokens presented again', registers: [registry] }),
    auditWriteFailures: new Counter({ name: 'gatehouse_audit_write_failures_total', help: 'Audit rows that could not be written (the request failed)', labelNames: ['type'], registers: [registry] }),
    mailDeliveries: new Counter({ name: 'gatehouse_mail_deliveries_total', help: 'Outbox mail by kind and outcome (sent, retry, failed, dropped)', labelNames: ['kind', 'outcome'], registers: [registry] }),
  };
}
