// The API reference at /api/docs, the way a person meets it: in a real headless Chromium, offline,
// under the page's CSP.
import type { Browser } from 'playwright-core';
import { haveChromium, launchChromium } from '../helpers/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.ts';


let gh: TestServer;
beforeAll(async () => {
  gh = await startTestServer();
});
afterAll(() => gh?.close());

describe('the reference page over HTTP', () => {
  it('sends a CSP without inline script or style, and serves only its own assets', async () => {
    const page = await fetch(`${gh.url}/api/docs`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    expect(html).not.toMatch(/<script>|\bon\w+=|https?:\/\//);

    const bundle = await fetch(`${gh.url}/api/docs/swagger-ui-bundle.js`);
    expect([bundle.status, bundle.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    await bundle.arrayBuffer();
    for (const path of ['package.json', 'swagger-ui-bundle.js.map', 'index.html', '..%2fpackage.json', '%2e%2e/%2e%2e/package.json']) {
      expect((await fetch(`${gh.url}/api/docs/${path}`)).status, path).toBe(404);
    }
  });
});

describe.skipIf(!haveChromium)('the reference page in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('lists the endpoints, opens one, and loads nothing from elsewhere or against its CSP', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith(`${gh.url}/`) && !request.url().startsWith('data:')) problems.push(`request to ${request.url()}`);
    });

    await page.goto(`${gh.url}/api/docs`);
    const login = page.getByRole('link', { name: '/auth/login', exact: true });
    await login.waitFor();
    for (const text of ['Sign in with email and password', 'Search users', '/users/{id}', '/admin/roles', '/admin/clients/{clientId}']) {
      await expect(page.getByText(text, { exact: true }).first().isVisible(), text).resolves.toBe(true);
    }
    const rateLimit = page.getByText('Too Many Requests', { exact: true });
    expect(await rateLimit.count()).toBe(0);
    await login.click();
    // The operation opens on its responses, the rate limit among them.
    await rateLimit.waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
