// The hosted login page in a real headless Chromium, the way a person meets it.
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { haveChromium, launchChromium, startLandingApp } from '../helpers/chromium.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAccount, signIn, startTestServer, tokensOf, type TestServer } from '../helpers/server.ts';


describe.skipIf(!haveChromium)('hosted login page in Chromium', () => {
  let gh: TestServer;
  let browser: Browser;
  let app: Awaited<ReturnType<typeof startLandingApp>>;
  let appUrl: string;

  beforeAll(async () => {
    gh = await startTestServer();
    app = await startLandingApp();
    appUrl = app.url;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.close();
  });

  async function thirdPartyApp() {
    const admin = await signIn(gh, ['admin']);
    const created = await admin.caller.admin.clients.create({ name: 'Photo Printer', grantTypes: ['authorization_code'], redirectUris: [`${appUrl}/callback`] });
    const config = await oidc.discovery(new URL(`${gh.url}/oidc`), created.clientId, undefined, oidc.ClientSecretBasic(created.clientSecret!), { execute: [oidc.allowInsecureRequests] });
    return { ...created, config };
  }

  it('signs a person in after a wrong password, asks consent, and returns a code the app can redeem', async () => {
    const account = newAccount('browser');
    const { user } = tokensOf(await gh.caller().auth.register(account));
    const { config } = await thirdPartyApp();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${appUrl}/callback`,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'browser-state',
    });

    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(url.href);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    expect(await page.textContent('body')).toContain('Photo Printer');

    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill('Definitely-Wrong-9');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Invalid email or password');
    // The email stays filled in; the password does not.
    expect(await page.getByLabel('Email').inputValue()).toBe(account.email);
    expect(await page.getByLabel('Password').inputValue()).toBe('');

    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Allow access?' }).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(`${appUrl}/callback**`);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('state')).toBe('browser-state');
    const tokens = await oidc.authorizationCodeGrant(config, landed, { pkceCodeVerifier: verifier, expectedState: 'browser-state' });
    expect(tokens.claims()?.sub).toBe(user.id);
    await context.close();
  });

  it('shows an error page, and does not redirect, when the redirect_uri is not registered', async () => {
    const { config } = await thirdPartyApp();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${appUrl}/elsewhere`,
      scope: 'openid',
      code_challenge: 'q'.repeat(43),
      code_challenge_method: 'S256',
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(url.href);
    expect(response?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(gh.url);
    expect(await page.textContent('body')).toMatch(/redirect_uri/);
    await context.close();
  });

  it('cannot be framed by another site', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${appUrl}/host`);
    // The app's own page has no frame policy and proves framing works here; the hosted pages refuse it.
    await page.setContent(`<iframe name="control" src="${appUrl}/framed"></iframe><iframe name="login" src="${gh.url}/interaction/expired-or-not"></iframe>`);
    await page.waitForLoadState('load');
    const text = async (name: string) => (await page.frame({ name })?.textContent('body').catch(() => null)) ?? '';
    await expect.poll(() => text('control')).toContain('landed /framed');
    expect(await text('login')).not.toMatch(/expired/i);
    // Opened directly, the same page renders.
    await page.goto(`${gh.url}/interaction/expired-or-not`);
    expect(await page.textContent('body')).toMatch(/expired/i);
    await context.close();
  });
});
