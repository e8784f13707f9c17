// Every URL the service builds for a client (discovery, the provider's endpoints, where a login
// resumes) comes from PUBLIC_URL: never from the Host or X-Forwarded-Host header a client sent,
// nor from an absolute request target. A cache in front would otherwise keep a poisoned answer.
import type Koa from 'koa';

/** Makes every request of `app` read its scheme, host and origin from `publicUrl`. */
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
