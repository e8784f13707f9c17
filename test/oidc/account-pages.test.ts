// The hosted pages around sign-in, in a real headless Chromium: forgot password → mail → reset →
// sign in → consent, and sign-up from the login page or straight from prompt=create.
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium, startLandingApp } from '../helpers/chromium.ts';
import { operator } from '../../server/services/rbac.ts';
import { newAccount, startTestServer, TEST_META, tokensOf, type TestServer } from '../helpers/server.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

describe.skipIf(!haveChromium)('hosted account pages in Chromium', () => {
  let smtp: TestSmtp;
  let browser: Browser;
  let app: Awaited<ReturnType<typeof startLandingApp>>;
  let appUrl: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startLandingApp();
    appUrl = app.url;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await smtp?.stop();
  });

  async function thirdPartyApp(gh: TestServer) {
    const created = await gh.deps.clientAdmin.create({ name: 'Photo Printer', grantTypes: ['authorization_code'], redirectUris: [`${appUrl}/callback`] }, operator(TEST_META));
    const config = await oidc.discovery(new URL(`${gh.url}/oidc`), created.clientId, undefined, oidc.ClientSecretBasic(created.clientSecret!), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const authorizationUrl = async (extra: Record<string, string> = {}) =>
      oidc.buildAuthorizationUrl(config, {
        redirect_uri: `${appUrl}/callback`,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: 'account-pages',
        ...extra,
      });
    /** Allows on the consent page and redeems the code the app receives; returns the id_token claims. */
    const consentAndRedeem = async (page: Page) => {
      await expect(page.getByRole('heading', { name: 'Allow access?' }).isVisible()).resolves.toBe(true);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${appUrl}/callback**`);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: 'account-pages' });
      return tokens.claims()!;
    };
    return { config, authorizationUrl, consentAndRedeem };
  }

  describe('with EMAIL_VERIFICATION=optional', () => {
    let gh: TestServer;
    beforeAll(async () => {
      gh = await startTestServer({ env: { SMTP_URL: smtp.url }, mail: { pollMs: 100 } });
    });
    afterAll(() => gh?.close());

    it('recovers a forgotten password: mail, reset page, sign-in with the new password, consent', async () => {
      const account = newAccount('forgot');
      const { user } = tokensOf(await gh.caller().auth.register(account));
      const rp = await thirdPartyApp(gh);
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto((await rp.authorizationUrl()).href);
      const signInUrl = page.url();
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await page.getByLabel('Email').fill(account.email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await expect(page.getByRole('heading', { name: 'Check your mail' }).isVisible()).resolves.toBe(true);

      const mail = await smtp.waitFor((m) => m.to === account.email && m.link?.pathname === '/account/reset-password');
      await page.goto(mail.link!.href);
      const newPassword = 'Browser-Reset-Secret-31';
      await page.getByLabel('New password', { exact: true }).fill(newPassword);
      await page.getByLabel('New password, again').fill(newPassword);
      await page.getByRole('button', { name: 'Set the password' }).click();
      await expect(page.getByRole('heading', { name: 'Password set' }).isVisible()).resolves.toBe(true);

      await page.getByRole('link', { name: 'Continue signing in' }).click();
      expect(page.url()).toBe(signInUrl);
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill(account.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toBe('Invalid email or password');
      await page.getByLabel('Password').fill(newPassword);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const claims = await rp.consentAndRedeem(page);
      expect(claims).toMatchObject({ sub: user.id, email: account.email, email_verified: true });
      await context.close();
    });

    it('creates an account from the login page, and goes on to consent', async () => {
      const account = newAccount('signup');
      const rp = await thirdPartyApp(gh);
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto((await rp.authorizationUrl()).href);
      await page.getByRole('link', { name: 'Create account' }).click();
      await expect(page.getByRole('heading', { name: 'Create your account' }).isVisible()).resolves.toBe(true);
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create account' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^Password: /);
      await page.getByLabel('Name').fill('Signe <b>Up</b>');
      await page.getByLabel('Password').fill(account.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      const claims = await rp.consentAndRedeem(page);
      expect(claims).toMatchObject({ email: account.email, email_verified: false, name: 'Signe <b>Up</b>' });
      // The same verification mail as auth.register sends.
      await smtp.waitFor((m) => m.to === account.email && m.link?.pathname === '/account/verify-email');
      await context.close();
    });

    it('opens the sign-up form for prompt=create, and advertises it in discovery', async () => {
      const discovery = await (await fetch(`${gh.url}/oidc/.well-known/openid-configuration`)).json();
      expect(discovery.prompt_values_supported).toContain('create');
      const account = newAccount('prompt-create');
      const rp = await thirdPartyApp(gh);
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto((await rp.authorizationUrl({ prompt: 'create' })).href);
      await expect(page.getByRole('heading', { name: 'Create your account' }).isVisible()).resolves.toBe(true);
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill(account.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      const claims = await rp.consentAndRedeem(page);
      expect(claims.email).toBe(account.email);
      await context.close();
    });
  });

  describe('with EMAIL_VERIFICATION=required', () => {
    let gh: TestServer;
    beforeAll(async () => {
      gh = await startTestServer({ env: { SMTP_URL: smtp.url, EMAIL_VERIFICATION: 'required' }, mail: { pollMs: 100 } });
    });
    afterAll(() => gh?.close());

    it('refuses an unverified account, offers a resend, and signs in once the link is used', async () => {
      const account = newAccount('unverified');
      const rp = await thirdPartyApp(gh);
      const context = await browser.newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto((await rp.authorizationUrl({ prompt: 'create' })).href);
      const signUpUrl = page.url();
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill(account.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await expect(page.getByRole('heading', { name: 'Check your mail' }).isVisible()).resolves.toBe(true);
      const first = await smtp.waitFor((m) => m.to === account.email && m.link?.origin === gh.url);

      await page.goto(signUpUrl);
      await page.getByRole('link', { name: 'Sign in' }).click();
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill(account.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Confirm your email address');
      await page.getByRole('button', { name: 'Send the verification link again' }).click();
      await expect(page.getByRole('heading', { name: 'Check your mail' }).isVisible()).resolves.toBe(true);
      const second = await smtp.waitFor((m) => m.to === account.email && m.link?.origin === gh.url && m !== first);

      await page.goto(second.link!.href);
      await page.getByRole('button', { name: 'Verify my address' }).click();
      await expect(page.getByRole('heading', { name: 'Email verified' }).isVisible()).resolves.toBe(true);
      await page.goto(signUpUrl);
      await page.getByRole('link', { name: 'Sign in' }).click();
      await page.getByLabel('Email').fill(account.email);
      await page.getByLabel('Password').fill(account.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const claims = await rp.consentAndRedeem(page);
      expect(claims).toMatchObject({ email: account.email, email_verified: true });
      await context.close();
    });
  });
});
