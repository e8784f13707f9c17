// The typed client and the second factor, against the real service over HTTP: a sign-in that asks
// for a code holds no tokens until client.verifyMfa answers it, and one that MFA_REQUIRED_ROLES holds
// back signs in through client.enrollMfa. TypeScript makes the caller narrow auth.login's answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGatehouseClient,
  isMfaChallenge,
  isMfaEnrollment,
  isTokenSet,
  type GatehouseClient,
  type LoginResult,
  type MfaChallenge,
  type RouterOutputs,
  type TokenSet,
} from '../../client/src/index.ts';
import { operator } from '../../server/services/rbac.ts';
import { expectUnauthorized } from '../helpers/trpc-client.ts';
import { newAccount, signIn, startTestServer, type TestServer } from '../helpers/server.ts';
import { nextCode, wrongCode } from '../helpers/totp.ts';

let gh: TestServer;
beforeAll(async () => {
  gh = await startTestServer();
});
afterAll(() => gh?.close());

function client(server: TestServer = gh) {
  const changes: (TokenSet | null)[] = [];
  const gatehouse = createGatehouseClient({ url: server.url, onTokens: (tokens) => changes.push(tokens) });
  return { gatehouse, changes };
}

/** An account with an authenticator app enrolled (through the caller, not the client under test). */
async function mfaAccount() {
  const { account, caller } = await signIn(gh);
  const { secret } = await caller.me.mfa.totp.begin();
  const { recoveryCodes } = await caller.me.mfa.totp.confirm({ code: await nextCode(secret) });
  return { account, secret, recoveryCodes };
}

/** Signs in with the password through the client: the challenge, and nothing adopted yet. */
async function challenged(gatehouse: GatehouseClient, changes: (TokenSet | null)[], account: { email: string; password: string }): Promise<MfaChallenge> {
  const result = await gatehouse.auth.login.mutate(account);
  expect(isMfaChallenge(result)).toBe(true);
  expect(isTokenSet(result)).toBe(false);
  expect(gatehouse.$tokens.get()).toBeNull();
  expect(changes).toEqual([]);
  return result as MfaChallenge;
}

describe('client.verifyMfa', () => {
  it('holds no tokens after the password, and signs in with the code of the app', async () => {
    const { account, secret } = await mfaAccount();
    const { gatehouse, changes } = client();
    const challenge = await challenged(gatehouse, changes, account);
    expect(challenge).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ['totp', 'recovery_code'] });
    // Not signed in yet: a call that needs a session is refused.
    await expectUnauthorized(gatehouse.me.get.query());

    const session = await gatehouse.verifyMfa(challenge, { code: await nextCode(secret) });
    expect(session).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', user: { email: account.email, mfaEnabled: true } });
    expect(changes).toEqual([session]);
    expect(gatehouse.$tokens.get()).toEqual({ accessToken: session.accessToken, refreshToken: session.refreshToken });
    const me = await gatehouse.me.get.query();
    expect(me).toMatchObject({ id: session.user.id, email: account.email, mfaEnabled: true });
  });

  it('signs in with a recovery code, which is spent', async () => {
    const { account, recoveryCodes } = await mfaAccount();
    expect(recoveryCodes).toHaveLength(10);
    const { gatehouse, changes } = client();
    const challenge = await challenged(gatehouse, changes, account);

    const session = await gatehouse.verifyMfa(challenge, { recoveryCode: recoveryCodes[0]! });
    expect(changes).toEqual([session]);
    expect(session.user.mfaEnabled).toBe(true);
    expect((await gatehouse.me.get.query()).id).toBe(session.user.id);

    // The same recovery code a second time is refused, and the session it made is kept.
    const again = client();
    const second = await challenged(again.gatehouse, again.changes, account);
    await expectUnauthorized(again.gatehouse.verifyMfa(second, { recoveryCode: recoveryCodes[0]! }));
    expect(again.gatehouse.$tokens.get()).toBeNull();
    expect(again.changes).toEqual([]);
  });

  it('rejects a wrong code with UNAUTHORIZED and stays signed out; the challenge takes a right code after', async () => {
    const { account, secret } = await mfaAccount();
    const { gatehouse, changes } = client();
    const challenge = await challenged(gatehouse, changes, account);

    await expectUnauthorized(gatehouse.verifyMfa(challenge, { code: wrongCode(secret) }));
    expect(gatehouse.$tokens.get()).toBeNull();
    expect(changes).toEqual([]);
    await expectUnauthorized(gatehouse.me.get.query());

    const session = await gatehouse.verifyMfa(challenge, { code: await nextCode(secret) });
    expect(changes).toEqual([session]);
  });
});

describe('client.enrollMfa under MFA_REQUIRED_ROLES', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ env: { MFA_REQUIRED_ROLES: 'admin' } });
  });
  afterAll(() => strict?.close());

  it("answers an admin's sign-in with an enrolment, and signs in once the app is confirmed", async () => {
    const account = newAccount('admin');
    await strict.deps.userAdmin.create({ ...account, roles: ['admin'] }, operator());
    const { gatehouse, changes } = client(strict);

    const result = await gatehouse.auth.login.mutate(account);
    expect(result).toEqual({ mfaEnrollmentRequired: true, enrollmentToken: expect.any(String), expiresIn: expect.any(Number) });
    if (!isMfaEnrollment(result)) throw new Error('expected an enrolment');
    expect(gatehouse.$tokens.get()).toBeNull();
    expect(changes).toEqual([]);

    const enroller = gatehouse.enrollMfa(result.enrollmentToken);
    const { secret, otpauthUrl, qrSvg } = await enroller.begin();
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    expect(qrSvg).toContain('<svg');
    // Beginning signs nobody in: the enrolment token is never the client's session.
    expect(gatehouse.$tokens.get()).toBeNull();
    expect(changes).toEqual([]);

    const confirmed = await enroller.confirm(await nextCode(secret));
    expect(confirmed.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.recoveryCodes).size).toBe(10);
    expect(confirmed.tokens).toMatchObject({ accessToken: expect.any(String), user: { email: account.email, roles: ['admin'], mfaEnabled: true } });
    expect(changes).toEqual([confirmed.tokens]);
    expect(gatehouse.$tokens.get()).toEqual({ accessToken: confirmed.tokens!.accessToken, refreshToken: confirmed.tokens!.refreshToken });
    expect(await gatehouse.me.get.query()).toMatchObject({ email: account.email, roles: ['admin'], mfaEnabled: true });

    // From now on the admin's sign-in asks for a code.
    const next = client(strict);
    expect(isMfaChallenge(await next.gatehouse.auth.login.mutate(account))).toBe(true);
  });
});

// Compile-time checks (`npx tsc --noEmit -p .`; vitest does not typecheck): auth.login's answer has
// no tokens until it is narrowed. The function runs too, on the answers of the service.
type RegisterResult = RouterOutputs['auth']['register'];

function tokensOrChallenge(result: LoginResult): string {
  // @ts-expect-error: a challenge or an enrolment has no accessToken; the union must be narrowed first.
  void result.accessToken;
  // @ts-expect-error: nor a user.
  void result.user;
  if (isTokenSet(result)) return result.accessToken;
  // @ts-expect-error: not narrowed to a challenge yet.
  void result.mfaToken;
  if (isMfaChallenge(result)) return result.mfaToken;
  // What is left is the enrolment.
  const enrollment: { enrollmentToken: string; expiresIn: number } = result;
  return enrollment.enrollmentToken;
}

function registeredTokens(result: RegisterResult): string | null {
  // @ts-expect-error: auth.register may answer an enrolment instead of tokens.
  void result.refreshToken;
  if (isMfaEnrollment(result)) return null;
  // Narrowed by the guard's false branch: only the TokenSet is left.
  return result.refreshToken;
}

describe('narrowing auth.login', () => {
  it('tells tokens from a challenge with isTokenSet and isMfaChallenge', async () => {
    const { gatehouse } = client();
    const plain = newAccount();
    const registered = await gatehouse.auth.register.mutate(plain);
    expect(registeredTokens(registered)).toEqual(expect.any(String));

    const tokens = await gatehouse.auth.login.mutate(plain);
    expect(tokensOrChallenge(tokens)).toBe(isTokenSet(tokens) ? tokens.accessToken : 'not tokens');

    const { account } = await mfaAccount();
    const challenge = await client().gatehouse.auth.login.mutate(account);
    expect(tokensOrChallenge(challenge)).toBe(isMfaChallenge(challenge) ? challenge.mfaToken : 'not a challenge');
  });
});
