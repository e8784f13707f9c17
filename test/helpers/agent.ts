// A minimal user agent for the authorization code flow without a browser: a cookie jar that
// honours paths and expiry, manual redirects, and form posts.
export interface Hop {
  status: number;
  url: string;
  location: string | null;
  body: string;
}

interface Cookie {
  value: string;
  path: string;
}

export class Agent {
  readonly #jar = new Map<string, Cookie>();

  cookieHeader(url: URL): string {
    return [...this.#jar.entries()]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  #store(response: Response, url: URL): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';').map((p) => p.trim());
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      const attr = (key: string) => attrs.find((a) => a.toLowerCase().startsWith(`${key}=`))?.split('=')[1];
      const path = attr('path') ?? url.pathname.replace(/\/[^/]*$/, '/');
      const expires = attr('expires');
      const expired = attr('max-age') === '0' || (expires !== undefined && new Date(expires).getTime() < Date.now());
      if (expired || value === '') this.#jar.delete(name!);
      else this.#jar.set(name!, { value, path });
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Hop> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      redirect: 'manual',
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    this.#store(response, target);
    const location = response.headers.get('location');
    return { status: response.status, url: target.href, location: location ? new URL(location, target).href : null, body: await response.text() };
  }

  /** Follows redirects until one leaves `origin` (the client's redirect_uri) or a page is shown. */
  async follow(url: string, origin: string, init: Parameters<Agent['request']>[1] = {}): Promise<Hop> {
    let hop = await this.request(url, init);
    for (let i = 0; i < 10 && hop.location; i += 1) {
      if (new URL(hop.location).origin !== origin) return hop;
      hop = await this.request(hop.location);
    }
    return hop;
  }
}

export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no ${name} field in page`);
  return match[1]!.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
}

export function formAction(html: string, index = 0): string {
  const actions = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((m) => m[1]!);
  if (!actions[index]) throw new Error('no form in page');
  return actions[index]!;
}
