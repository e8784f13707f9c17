// The Prometheus scrape on a port of its own (METRICS_PORT): GET or HEAD /metrics, 404 for the rest.
import type { RequestListener } from 'node:http';
import type { Metrics } from '../metrics.ts';

export function metricsListener(metrics: Metrics): RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500).end(),
    );
  };
}
