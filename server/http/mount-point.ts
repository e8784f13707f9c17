// Which app a request goes to, decided on the raw request target before any Koa context exists.

/**
 * The request target below `prefix`, or null when it is elsewhere. Matches as koa-mount does:
 * `/oidc` and `/oidc?…` become `/` and `/?…`, `/oidc/token` becomes `/token`; `/oidcx` is
 * elsewhere. An absolute-form target (`http://host/oidc/token`) is matched on its path.
 */
export function below(prefix: string, target: string): string | null {
  let path = target;
  if (path.charCodeAt(0) !== 0x2f) {
    const url = URL.parse(target);
    if (!url) return null;
    path = url.pathname + url.search;
  }
  if (!path.startsWith(prefix)) return null;
  const next = path.charCodeAt(prefix.length);
  if (Number.isNaN(next)) return '/';
  if (next === 0x2f) return path.slice(prefix.length);
  if (next === 0x3f) return `/${path.slice(prefix.length)}`;
  return null;
}
