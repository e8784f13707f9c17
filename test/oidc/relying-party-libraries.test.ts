// The relying-party libraries TypeScript teams reach for, with their default settings, signing a
// person in through the hosted login page in Chromium: Auth.js and passport-openidconnect.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExpressAuth } from '@auth/express';
import express, { type Express } from 'express';
import session from 'express-session';
import passport from 'passport';
import OpenIDConnectStrategy, { type Profile } from 'passport-openidconnect';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../helpers/chromium.ts';
import { newAccount, signIn, startTestServer, type TestServer } from '../helpers/server.ts';

/** An Express app on a loopback port; `mount` gets its origin, to register redirect URIs with. */
async function expressApp(mount: (app: Express, origin: string) => Promise<void>): Promise<{ origin: string; server: Server }> {
  const app = express();
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await mount(app, origin);
  return { origin, server };
}

/** The hosted pages as a person goes through them: sign in, then allow the app. */
async function signInAndAllow(page: Page, account: { email: string; password: string }, appName: string) {
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  expect(await page.textContent('body')).toContain(appName);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  await page.getByRole('button', { name: 'Allow' }).click();
}

describe.skipIf(!haveChromium)('relying-party libraries in Chromium', () => {
  let gh: TestServer;
  let browser: Browser;
  const servers: Server[] = [];

  beforeAll(async () => {
    gh = await startTestServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await gh?.close();
  });

  /** A person with a name, who signs up the usual way. */
  async function person() {
    const account = newAccount('rp');
    await gh.caller().auth.register({ ...account, name: 'Grace Hopper' });
    return account;
  }

  it('Auth.js with the generic OIDC provider: the session shows the email and name', async () => {
    const admin = await signIn(gh, ['admin']);
    const { origin, server } = await expressApp(async (app, origin) => {
      // What the docs tell a team to register: the callback Auth.js uses, and a confidential client.
      const client = await admin.caller.admin.clients.create({ name: 'Express with Auth.js', grantTypes: ['authorization_code'], redirectUris: [`${origin}/auth/callback/gatehouse`] });
      app.set('trust proxy', true);
      app.use(
        '/auth',
        ExpressAuth({
          providers: [{ id: 'gatehouse', name: 'Gatehouse', type: 'oidc', issuer: `${gh.url}/oidc`, clientId: client.clientId, clientSecret: client.clientSecret! }],
          secret: randomBytes(32).toString('hex'),
          trustHost: true,
        }),
      );
      app.get('/', (_req, res) => void res.send('home'));
    });
    servers.push(server);

    const account = await person();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/auth/signin`);
    await page.getByRole('button', { name: 'Sign in with Gatehouse' }).click();
    await signInAndAllow(page, account, 'Express with Auth.js');
    await page.waitForURL(`${origin}/`);

    const response = await page.goto(`${origin}/auth/session`);
    const body = (await response!.json()) as { user?: { email?: string; name?: string } };
    expect(body.user).toMatchObject({ email: account.email, name: 'Grace Hopper' });
    await context.close();
  });

  // Its defaults, and with the nonce the docs recommend.
  it.each([{ nonce: false }, { nonce: true }])('passport-openidconnect on a client exempted from PKCE (%o): the profile has the email', async ({ nonce }) => {
    const admin = await signIn(gh, ['admin']);
    const { origin, server } = await expressApp(async (app, origin) => {
      const client = await admin.caller.admin.clients.create({
        name: 'Express with passport',
        grantTypes: ['authorization_code'],
        redirectUris: [`${origin}/login/callback`],
        pkceRequired: false,
      });
      const strategy = new OpenIDConnectStrategy(
        {
          issuer: `${gh.url}/oidc`,
          authorizationURL: `${gh.url}/oidc/auth`,
          tokenURL: `${gh.url}/oidc/token`,
          userInfoURL: `${gh.url}/oidc/me`,
          clientID: client.clientId,
          clientSecret: client.clientSecret!,
          callbackURL: `${origin}/login/callback`,
          scope: ['profile', 'email'],
          ...(nonce ? { nonce: 'true' } : {}),
        },
        (_issuer: string, profile: Profile, done: (error: null, user: Profile) => void) => done(null, profile),
      );
      const auth = new passport.Passport();
      auth.use('gatehouse', strategy);
      auth.serializeUser((user, done) => done(null, user));
      auth.deserializeUser((user: Express.User, done) => done(null, user));
      app.use(session({ secret: randomBytes(32).toString('hex'), resave: false, saveUninitialized: false }));
      app.use(auth.session());
      app.get('/login', auth.authenticate('gatehouse'));
      app.get('/login/callback', auth.authenticate('gatehouse', { successRedirect: '/profile', failureRedirect: '/failed', failureMessage: true }));
      app.get('/failed', (req, res) => void res.status(401).json((req.session as { messages?: string[] }).messages ?? []));
      app.get('/profile', (req, res) => void res.json(req.user ?? null));
    });
    servers.push(server);

    const account = await person();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/login`);
    await signInAndAllow(page, account, 'Express with passport');
    await page.waitForURL(`${origin}/profile`);
    const profile = JSON.parse((await page.textContent('body'))!) as Profile;
    expect(profile).toMatchObject({ displayName: 'Grace Hopper', emails: [{ value: account.email }] });
    await context.close();
  });
});
