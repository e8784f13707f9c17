// The hosted sign-in with a second factor in a real headless Chromium: the code page, recovery codes, enrolment that MFA_REQUIRED_ROLES asks for, and the hardening of the code page.
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operator } from '../../server/services/rbac.ts';
import { haveChromium, launchChromium, startLandingApp } from '../helpers/chromium.ts';
import { newAccount, signIn, startTestServer, tokensOf, trpcHttp, type TestServer } from '../helpers/server.ts';
import { nextCode, wrongCode } from '../helpers/totp.ts';

const ACR_PWD = 'urn:gatehouse:acr:pwd';
const ACR_MFA = 'urn:gatehouse:acr:mfa';
const WRONG_CODE = 'Invalid or expired code. Try again, or start over.';
// A flow may wait for the next TOTP period before it has a fresh code.
const SLOW = 75_000;

type Account = { email: string; password: string };

describe.skipIf(!haveChromium)('hosted sign-in with a second factor in Chromium', () => {
  let browser: Browser;
  let landing: Awaited<ReturnType<typeof startLandingApp>>;
  const callback = () => `${landing.url}/callback`;

  beforeAll(async () => {
    landing = await startLandingApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await landing?.close();
  });

  /** A confidential third-party app on `gh`, and openid-client set up as that app. */
  async function thirdPartyApp(gh: TestServer, name = 'Photo Printer') {
    const created = await gh.deps.clientAdmin.create({ name, grantTypes: ['authorization_code'], redirectUris: [callback()] }, operator());
    return oidc.discovery(new URL(`${gh.url}/oidc`), created.clientId, undefined, oidc.ClientSecretBasic(created.clientSecret!), { execute: [oidc.allowInsecureRequests] });
  }

  /** An account whose TOTP factor is on, turned on over tRPC with its own bearer. */
  async function accountWithTotp(gh: TestServer, prefix = 'totp') {
    const { account, user, caller } = await signIn(gh, ['user'], newAccount(prefix));
    const { secret } = await caller.me.mfa.totp.begin();
    const { recoveryCodes } = await caller.me.mfa.totp.confirm({ code: await nextCode(secret) });
    return { ...account, id: user.id, secret, recoveryCodes };
  }

  /** The app's authorization request (code, PKCE, the API as resource) opened in a fresh browser without JavaScript. */
  async function startSignIn(gh: TestServer, config: oidc.Configuration) {
    const api = `${gh.url}/api`;
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback(),
      scope: 'openid email api',
      resource: api,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(url.href);
    await expect(heading(page)).resolves.toBe('Sign in');

    /** Allows access on the consent page and redeems the code the app receives, for the API. */
    async function allowAndRedeem() {
      await expect(heading(page)).resolves.toBe('Allow access?');
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${callback()}**`);
      return oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, { resource: api });
    }
    return { page, context, api, allowAndRedeem, close: () => context.close() };
  }

  const heading = (page: Page) => page.locator('h1').innerText();
  const alertText = (page: Page) => page.getByRole('alert').innerText();

  /** Types the password on the sign-in page; the response is the page that follows it. */
  async function submitPassword(page: Page, account: Account): Promise<Response> {
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(account.password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/login')),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForLoadState();
    return response;
  }

  async function enterCode(page: Page, code: string, button = 'Verify') {
    await page.getByLabel('Code from your authenticator app').fill(code);
    await page.getByRole('button', { name: button }).click();
    await page.waitForLoadState();
  }

  /** The interaction's path (/interaction/:uid) from the form of the page shown. */
  async function interactionPath(page: Page) {
    const action = await page.locator('form').first().getAttribute('action');
    return action!.replace(/\/[a-z]+$/, '');
  }

  const hidden = (page: Page, name: string) => page.locator(`input[type=hidden][name=${name}]`).inputValue();

  type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

  /** The API access token says how the user signed in; the id_token is for that user. */
  function expectSignInMethods(tokens: Tokens, subject: string, amr: string[], acr: string) {
    expect(tokens.claims()?.sub).toBe(subject);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: subject, amr, acr });
  }

  /** A whole hosted sign-in: the password, then `code` on the code page if given, then consent. */
  async function hostedSignIn(gh: TestServer, config: oidc.Configuration, account: Account, code?: string) {
    const flow = await startSignIn(gh, config);
    await submitPassword(flow.page, account);
    if (code !== undefined) await enterCode(flow.page, code);
    const tokens = await flow.allowAndRedeem();
    await flow.close();
    return tokens;
  }

  describe('with the default settings', () => {
    let gh: TestServer;
    let config: oidc.Configuration;

    beforeAll(async () => {
      gh = await startTestServer();
      config = await thirdPartyApp(gh);
    });
    afterAll(async () => {
      await gh?.close();
    });

    it('asks for the authenticator code after the password, refuses a wrong one, and signs in with both factors', { timeout: SLOW }, async () => {
      const account = await accountWithTotp(gh);
      const flow = await startSignIn(gh, config);
      const { page } = flow;

      await submitPassword(page, account);
      await expect(heading(page)).resolves.toBe('Two-step verification');
      expect(await page.textContent('body')).toContain('Photo Printer');
      expect(await page.getByLabel('Code from your authenticator app').inputValue()).toBe('');

      await enterCode(page, wrongCode(account.secret));
      await expect(alertText(page)).resolves.toBe(WRONG_CODE);
      await expect(heading(page)).resolves.toBe('Two-step verification');

      await enterCode(page, await nextCode(account.secret));
      const tokens = await flow.allowAndRedeem();
      expectSignInMethods(tokens, account.id, ['pwd', 'otp'], ACR_MFA);
      expect(decodeJwt(tokens.access_token).aud).toBe(flow.api);
      await flow.close();
    });

    it('takes a recovery code in the code field, in any case and without the dash, and only once', { timeout: SLOW }, async () => {
      const account = await accountWithTotp(gh, 'recovery');
      const [first, second] = account.recoveryCodes as [string, string];
      const typed = `${first.slice(0, 5).toUpperCase()}${first.slice(6)}`;

      const flow = await startSignIn(gh, config);
      await submitPassword(flow.page, account);
      await expect(flow.page.textContent('body')).resolves.toContain('Enter one of your recovery codes instead');
      await enterCode(flow.page, typed);
      expectSignInMethods(await flow.allowAndRedeem(), account.id, ['pwd', 'otp'], ACR_MFA);
      await flow.close();

      const again = await startSignIn(gh, config);
      await submitPassword(again.page, account);
      await enterCode(again.page, first);
      await expect(alertText(again.page)).resolves.toBe(WRONG_CODE);
      await expect(heading(again.page)).resolves.toBe('Two-step verification');
      // Another code, typed as shown, still goes on.
      await enterCode(again.page, second);
      expectSignInMethods(await again.allowAndRedeem(), account.id, ['pwd', 'otp'], ACR_MFA);
      await again.close();
    });

    it('goes straight from the password to consent for an account without a factor', async () => {
      const account = newAccount('single');
      const { user } = tokensOf(await gh.caller().auth.register(account));
      const flow = await startSignIn(gh, config);
      await submitPassword(flow.page, account);
      await expect(heading(flow.page)).resolves.toBe('Allow access?');
      expectSignInMethods(await flow.allowAndRedeem(), user.id, ['pwd'], ACR_PWD);
      await flow.close();
    });

    it('says in the id_token how the user signed in', { timeout: SLOW }, async () => {
      const withCode = await accountWithTotp(gh, 'idtoken');
      const byCode = await hostedSignIn(gh, config, withCode, await nextCode(withCode.secret));
      expect(byCode.claims()).toMatchObject({ sub: withCode.id, amr: ['pwd', 'otp'], acr: ACR_MFA });
      const byRecoveryCode = await hostedSignIn(gh, config, withCode, withCode.recoveryCodes[0]!);
      expect(byRecoveryCode.claims()).toMatchObject({ sub: withCode.id, amr: ['pwd', 'otp'], acr: ACR_MFA });

      const single = newAccount('idtoken');
      const { user } = tokensOf(await gh.caller().auth.register(single));
      const byPassword = await hostedSignIn(gh, config, single);
      expect(byPassword.claims()).toMatchObject({ sub: user.id, amr: ['pwd'], acr: ACR_PWD });
    });

    it('sends the code page with a strict CSP, refusing frames and caches', async () => {
      const account = await accountWithTotp(gh, 'headers');
      const flow = await startSignIn(gh, config);
      const response = await submitPassword(flow.page, account);
      await expect(heading(flow.page)).resolves.toBe('Two-step verification');
      expect(response.status()).toBe(200);
      const headers = response.headers();
      expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['cache-control']).toBe('no-store');
      await flow.close();
    });

    it('refuses a code posted without the page\'s csrf value or from another site, and the page still works', { timeout: SLOW }, async () => {
      const account = await accountWithTotp(gh, 'csrf');
      const flow = await startSignIn(gh, config);
      const { page } = flow;
      await submitPassword(page, account);
      const target = `${gh.url}${await interactionPath(page)}/mfa`;
      const form = { csrf: await hidden(page, 'csrf'), mfa_token: await hidden(page, 'mfa_token') };

      // page.request carries the browser's cookies, so only the refused part differs; even a right code is refused.
      const code = await nextCode(account.secret);
      const forged = await page.request.post(target, { form: { ...form, csrf: 'forged', code }, maxRedirects: 0 });
      expect(forged.status()).toBe(403);
      expect(await forged.text()).toContain('Request refused');
      const missing = await page.request.post(target, { form: { mfa_token: form.mfa_token, code }, maxRedirects: 0 });
      expect(missing.status()).toBe(403);
      const crossSite = await page.request.post(target, { form: { ...form, code }, headers: { origin: 'https://evil.example' }, maxRedirects: 0 });
      expect(crossSite.status()).toBe(403);
      expect(await crossSite.text()).toContain('submitted from another site');

      await enterCode(page, await nextCode(account.secret));
      expectSignInMethods(await flow.allowAndRedeem(), account.id, ['pwd', 'otp'], ACR_MFA);
      await flow.close();
    });

    it('shows a client name with markup as plain text on the code page', async () => {
      const name = 'Evil <script>alert(1)</script> Printer';
      const hostile = await thirdPartyApp(gh, name);
      const account = await accountWithTotp(gh, 'escape');
      const flow = await startSignIn(gh, hostile);
      await submitPassword(flow.page, account);
      await expect(heading(flow.page)).resolves.toBe('Two-step verification');
      await expect(flow.page.locator('strong').innerText()).resolves.toBe(name);
      expect(await flow.page.locator('script').count()).toBe(0);
      await flow.close();
    });

    it('binds the page\'s challenge to its interaction: auth.verifyMfa refuses it and issues no tokens', { timeout: SLOW }, async () => {
      const account = await accountWithTotp(gh, 'bound');
      const flow = await startSignIn(gh, config);
      await submitPassword(flow.page, account);
      const mfaToken = await hidden(flow.page, 'mfa_token');
      expect(mfaToken.length).toBeGreaterThan(20);

      const stolen = await trpcHttp(gh.url, 'auth.verifyMfa', { mfaToken, code: await nextCode(account.secret) });
      expect(stolen.status).toBe(401);
      expect(stolen.body.result).toBeUndefined();
      expect(JSON.stringify(stolen.body)).not.toMatch(/accessToken|refreshToken/);

      // The sign-in in the browser is not disturbed by it.
      await enterCode(flow.page, await nextCode(account.secret));
      expectSignInMethods(await flow.allowAndRedeem(), account.id, ['pwd', 'otp'], ACR_MFA);
      await flow.close();
    });
  });

  describe('with MFA_REQUIRED_ROLES=admin', () => {
    let gh: TestServer;
    let config: oidc.Configuration;

    beforeAll(async () => {
      gh = await startTestServer({ env: { MFA_REQUIRED_ROLES: 'admin' } });
      config = await thirdPartyApp(gh, 'Admin Console');
    });
    afterAll(async () => {
      await gh?.close();
    });

    async function newAdmin() {
      const account = newAccount('admin');
      const user = await gh.deps.userAdmin.create({ ...account, roles: ['admin'] }, operator());
      return { ...account, id: user.id };
    }

    /** Signs in with the password, sets up the app with the key the page shows, and goes past the recovery codes. */
    async function enrolOnHostedPage(admin: Account) {
      const flow = await startSignIn(gh, config);
      const { page } = flow;
      await submitPassword(page, admin);
      await expect(heading(page)).resolves.toBe('Set up two-step verification');
      await expect(page.locator('.qr svg').isVisible()).resolves.toBe(true);
      const secret = await page.locator('#secret').innerText();

      await enterCode(page, await nextCode(secret), 'Turn on');
      await expect(heading(page)).resolves.toBe('Save your recovery codes');
      const codes = await page.locator('#recovery-codes li').allInnerTexts();
      await page.getByRole('button', { name: 'I have saved them, continue' }).click();
      await page.waitForLoadState();
      const tokens = await flow.allowAndRedeem();
      await flow.close();
      return { secret, codes, tokens };
    }

    it('has an admin without a factor set one up on the hosted page, then asks for its code at the next sign-in', { timeout: SLOW }, async () => {
      const admin = await newAdmin();
      const { secret, codes, tokens } = await enrolOnHostedPage(admin);
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(codes).toHaveLength(10);
      for (const code of codes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
      expect(new Set(codes).size).toBe(10);
      expectSignInMethods(tokens, admin.id, ['pwd', 'otp'], ACR_MFA);
      await expect(gh.deps.userAdmin.get(admin.id)).resolves.toMatchObject({ mfaEnabled: true });

      const next = await startSignIn(gh, config);
      await submitPassword(next.page, admin);
      await expect(heading(next.page)).resolves.toBe('Two-step verification');
      await enterCode(next.page, await nextCode(secret));
      expectSignInMethods(await next.allowAndRedeem(), admin.id, ['pwd', 'otp'], ACR_MFA);
      await next.close();
    });

    it('says in the id_token that an enrolled admin signed in with both factors', { timeout: SLOW }, async () => {
      const admin = await newAdmin();
      const { tokens } = await enrolOnHostedPage(admin);
      expect(tokens.claims()).toMatchObject({ sub: admin.id, amr: ['pwd', 'otp'], acr: ACR_MFA });
    });

    it('shows an error and the same key again after a wrong code on the enrolment page', { timeout: SLOW }, async () => {
      const admin = await newAdmin();
      const flow = await startSignIn(gh, config);
      const { page } = flow;
      await submitPassword(page, admin);
      await expect(heading(page)).resolves.toBe('Set up two-step verification');
      const secret = await page.locator('#secret').innerText();

      await enterCode(page, wrongCode(secret), 'Turn on');
      await expect(alertText(page)).resolves.toBe('That code is not right. Try the next one.');
      await expect(heading(page)).resolves.toBe('Set up two-step verification');
      await expect(page.locator('#secret').innerText()).resolves.toBe(secret);
      await expect(page.locator('.qr svg').isVisible()).resolves.toBe(true);
      await expect(gh.deps.userAdmin.get(admin.id)).resolves.toMatchObject({ mfaEnabled: false });

      await enterCode(page, await nextCode(secret), 'Turn on');
      await expect(heading(page)).resolves.toBe('Save your recovery codes');
      await flow.close();
    });
  });
});
