// Every URL built for a client comes from PUBLIC_URL, never the Host or X-Forwarded-Host header nor an
// absolute request target: a cache in front would otherwise keep a poisoned answer.
import type Koa from 'koa';

export function pinToPublicUrl(app: Koa, publicUrl: string): void {
  const { protocol, host, hostname, origin } = new URL(publicUrl);
  const scheme = protocol.slice(0, -1);
  const fixed = (value: string) => ({ get: () => value, configurable: true });
  Object.defineProperties(app.request, {
    protocol: fixed(scheme),
    host: fixed(host),
    hostname: fixed(hostname),
    origin: fixed(origin),
    href: {
      get(this: Koa.Request) {
        const target = this.originalUrl;
        if (target.startsWith('/')) return origin + target;
        const url = URL.parse(target);
        return origin + (url ? url.pathname + url.search : '/');
      },
      configurable: true,
    },
  });
}
