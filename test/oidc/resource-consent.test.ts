// A third-party app asks for a registered resource's permissions as scopes: the consent page in
// Chromium names them in words, and the token carries what was asked for, consented to and held.
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium, startLandingApp } from '../helpers/chromium.ts';
import { newAccount, signIn, startTestServer, type TestServer } from '../helpers/server.ts';

const TASKS = 'https://tasks.example';

describe.skipIf(!haveChromium)('permissions as scopes on the hosted consent page', () => {
  let gh: TestServer;
  let browser: Browser;
  let app: Awaited<ReturnType<typeof startLandingApp>>;

  beforeAll(async () => {
    gh = await startTestServer();
    app = await startLandingApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await gh?.close();
  });

  it('lists tasks:read in words, leaves out tasks:write the user lacks, and the token carries tasks:read only', async () => {
    const admin = await signIn(gh, ['admin']);
    await admin.caller.admin.resources.create({
      identifier: TASKS,
      name: 'Tasks',
      permissions: [{ name: 'tasks:read', description: 'Read your tasks' }, { name: 'tasks:write', description: 'Add tasks for you' }],
    });
    await admin.caller.admin.roles.create({ name: 'tasks-reader', permissions: ['tasks:read'] });
    const account = newAccount('consent');
    const user = await admin.caller.admin.users.create({ ...account, roles: ['user', 'tasks-reader'] });
    const created = await admin.caller.admin.clients.create({ name: 'Task Board', grantTypes: ['authorization_code'], redirectUris: [`${app.url}/callback`] });
    const config = await oidc.discovery(new URL(`${gh.url}/oidc`), created.clientId, undefined, oidc.ClientSecretBasic(created.clientSecret!), { execute: [oidc.allowInsecureRequests] });

    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${app.url}/callback`,
      scope: 'openid tasks:read tasks:write',
      resource: TASKS,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'tasks-state',
    });
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(url.href);
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Allow access?' }).isVisible()).resolves.toBe(true);
    const body = await page.textContent('body');
    expect(body).toContain('Read your tasks');
    expect(body).not.toContain('Add tasks for you');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${app.url}/callback**`);

    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: 'tasks-state' }, { resource: TASKS });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ aud: TASKS, sub: user.id, client_id: created.clientId, permissions: ['tasks:read'] });
    expect(String(claims.scope).split(' ')).not.toContain('tasks:write');
    expect(await gh.caller().auth.verify({ token: tokens.access_token })).toMatchObject({ active: true, permissions: ['tasks:read'] });
    await context.close();
  });
});
