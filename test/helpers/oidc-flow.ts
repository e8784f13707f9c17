// The authorization code flow as a relying party runs it: openid-client for the protocol, the
// Agent for the browser half (the hosted login and consent pages).
import * as oidc from 'openid-client';
import { expect } from 'vitest';
import { operator } from '../../server/services/rbac.ts';
import { Agent, formAction, hiddenField } from './agent.ts';
import type { signIn, TestServer } from './server.ts';

export const APP = 'http://127.0.0.1:9/app';
export const insecure = { execute: [oidc.allowInsecureRequests] };

export const issuerOf = (gh: TestServer) => new URL(`${gh.url}/oidc`);

/** The OAuth error code of a failed openid-client call, from the body or a WWW-Authenticate challenge. */
export async function oauthError(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (error) {
    const e = error as { error?: string; cause?: { parameters?: { error?: string } }[] };
    return e.error ?? e.cause?.[0]?.parameters?.error;
  }
  return undefined;
}

/** Registers a third-party web app (confidential unless `public`) and discovers the issuer for it. */
export async function webApp(gh: TestServer, admin: Awaited<ReturnType<typeof signIn>>, options: { public?: boolean; scopes?: string[]; name?: string; pkceRequired?: boolean } = {}) {
  const created = await admin.caller.admin.clients.create({
    name: options.name ?? 'Third Party App',
    grantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: [`${APP}/callback`],
    postLogoutRedirectUris: [`${APP}/bye`],
    public: options.public ?? false,
    ...(options.scopes ? { scopes: options.scopes as never } : {}),
    ...(options.pkceRequired === undefined ? {} : { pkceRequired: options.pkceRequired }),
  });
  const auth = created.clientSecret ? oidc.ClientSecretBasic(created.clientSecret) : oidc.None();
  const config = await oidc.discovery(issuerOf(gh), created.clientId, undefined, auth, insecure);
  return { ...created, config };
}

/** Registers a public first-party app (no consent screen), as an operator would, redirecting to APP/callback. */
export function firstPartyApp(gh: TestServer, name: string) {
  return gh.deps.clientAdmin.create({ name, grantTypes: ['authorization_code'], redirectUris: [`${APP}/callback`], public: true, firstParty: true }, operator());
}

/** Runs the browser half of the flow: login page, optional consent, back to the app with a code. */
export async function authorize(gh: TestServer, agent: Agent, url: URL, account: { email: string; password: string }, { expectConsent = true } = {}) {
  let hop = await agent.follow(url.href, gh.url);
  expect(hop.status).toBe(200);
  expect(hop.body).toContain('<form');
  if (hop.body.includes('name="password"')) {
    hop = await agent.follow(`${gh.url}${formAction(hop.body)}`, gh.url, { form: { csrf: hiddenField(hop.body, 'csrf'), ...account } });
  }
  if (expectConsent) {
    expect(hop.body).toMatch(/Allow access/);
    hop = await agent.follow(`${gh.url}${formAction(hop.body, 0)}`, gh.url, { form: { csrf: hiddenField(hop.body, 'csrf') } });
  }
  expect(hop.location, hop.body.slice(0, 300)).toBeTruthy();
  return new URL(hop.location!);
}

/** A full flow for `account`: PKCE, state, the pages, and the code exchanged for tokens. */
export async function codeFlowTokens(
  gh: TestServer,
  app: Awaited<ReturnType<typeof webApp>>,
  account: { email: string; password: string },
  { scope = 'openid offline_access api', resource, agent = new Agent(), expectConsent = true }: { scope?: string; resource?: string; agent?: Agent; expectConsent?: boolean } = {},
) {
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(app.config, {
    redirect_uri: `${APP}/callback`,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'st',
    prompt: 'consent',
    ...(resource ? { resource } : {}),
  });
  const callback = await authorize(gh, agent, url, account, { expectConsent });
  return oidc.authorizationCodeGrant(app.config, callback, { pkceCodeVerifier: verifier, expectedState: 'st' }, resource ? { resource } : undefined);
}
