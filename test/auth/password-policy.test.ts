// The password policy (PASSWORD_POLICY), unit by unit and end to end on a server of each policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dictionary } from '@zxcvbn-ts/language-common';
import { hash } from '@node-rs/bcrypt';
import { checkPasswordPolicy, serviceWords } from '../../server/services/passwords.ts';
import { insertUser } from '../../server/services/users.ts';
import { newAccount, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';

describe('checkPasswordPolicy', () => {
  it('uses a common-password list of well over 10,000 entries, whatever the letter case', () => {
    expect(dictionary['passwords-common'].length).toBeGreaterThan(10_000);
    for (const policy of ['standard', 'nist'] as const) {
      expect(checkPasswordPolicy('1qaz2wsx3edc4rfv', policy).join(' ')).toMatch(/too common/i);
      expect(checkPasswordPolicy('MomsAnalAdventure', policy).join(' ')).toMatch(/too common/i);
    }
  });

  it('standard: 8 bytes and upper, lower, digit', () => {
    expect(checkPasswordPolicy('Tr1ckyOne', 'standard')).toEqual([]);
    expect(checkPasswordPolicy('Qv7xWz', 'standard')).toEqual(['Must be at least 8 characters long']);
    expect(checkPasswordPolicy('tr1ckyones', 'standard')).toEqual(['Must contain an upper-case letter']);
    expect(checkPasswordPolicy('TRICKYONES', 'standard')).toEqual(['Must contain a lower-case letter', 'Must contain a digit']);
  });

  it('nist: 15 bytes, no composition rule; still refuses common and personal passwords and more than 72 bytes', () => {
    expect(checkPasswordPolicy('plain lowercase words', 'nist')).toEqual([]);
    expect(checkPasswordPolicy('Tr1ckyOne', 'nist')).toEqual(['Must be at least 15 characters long']);
    expect(checkPasswordPolicy('123456789987654321', 'nist').join(' ')).toMatch(/too common/i);
    expect(checkPasswordPolicy('ada.lovelace and more words', 'nist', { personal: ['ada.lovelace'] })).toEqual(['Must not contain your email or name']);
    expect(checkPasswordPolicy('x'.repeat(73), 'nist')).toEqual(['Must be at most 72 bytes long']);
  });
});

describe('PASSWORD_POLICY end to end', () => {
  let standard: TestServer;
  let nist: TestServer;
  beforeAll(async () => {
    [standard, nist] = await Promise.all([startTestServer(), startTestServer({ env: { PASSWORD_POLICY: 'nist' } })]);
  });
  afterAll(async () => {
    await Promise.all([standard?.close(), nist?.close()]);
  });

  const register = (server: TestServer, password: string) => trpcHttp(server.url, 'auth.register', { ...newAccount(), password });

  it('nist accepts a long password without composition and refuses a short one with the reason in fieldErrors', async () => {
    expect((await register(nist, 'plain lowercase passphrase')).status).toBe(200);
    const short = await register(nist, 'Tr1ckyOne-9');
    expect(short.status).toBe(400);
    expect(short.body.error.data.fieldErrors.password).toEqual(['Must be at least 15 characters long']);
    const common = await register(nist, '1qaz2wsx3edc4rfv');
    expect(common.status).toBe(400);
    expect(common.body.error.data.fieldErrors.password.join(' ')).toMatch(/too common/i);
  });

  it('standard takes what nist refuses and the other way round', async () => {
    expect((await register(standard, 'Tr1ckyOne-9')).status).toBe(200);
    const res = await register(standard, 'plain lowercase passphrase');
    expect(res.status).toBe(400);
    expect(res.body.error.data.fieldErrors.password).toEqual(['Must contain an upper-case letter', 'Must contain a digit']);
  });

  it('a nist account signs in with its passphrase', async () => {
    const account = { ...newAccount(), password: 'another plain passphrase here' };
    expect((await trpcHttp(nist.url, 'auth.register', account)).status).toBe(200);
    expect((await trpcHttp(nist.url, 'auth.login', account)).status).toBe(200);
  });
});

describe('what counts as a common password', () => {
  it('catches the usual variants of a listed password: case, trailing digits and symbols, leet', () => {
    for (const password of ['Password1!', 'Summer2024!', 'P@ssw0rd', 'P@55w0rd!!', 'Qwerty123456!', '!!Dragon2024', 'Sunsh1ne-99']) {
      expect(checkPasswordPolicy(password, 'standard').join(' '), password).toMatch(/too common/i);
    }
    for (const password of ['Tr1ckyOne', 'Correct-Horse-7-Battery', 'Qzv-Plorb-9184']) expect(checkPasswordPolicy(password, 'standard'), password).toEqual([]);
  });

  it('refuses the service’s own name and its PUBLIC_URL host, in any disguise', () => {
    for (const password of ['Gatehouse2024!', 'G@teh0use-Rocks-1', 'My-Acmecorp-Login-7']) {
      expect(checkPasswordPolicy(password, 'standard', { service: serviceWords('https://login.acmecorp.test') }).join(' '), password).toMatch(/name of this service/);
    }
    expect(checkPasswordPolicy('Login-Strong-Pass-7', 'standard', { service: serviceWords('https://login.acmecorp.test') })).toEqual([]);
  });

  it('normalizes to NFKC before it counts bytes and characters', () => {
    // 25 full-width characters are 75 bytes as typed, 25 once normalized.
    const fullWidth = toFullWidth('Correct-Horse-Battery-42x');
    expect(Buffer.byteLength(fullWidth)).toBeGreaterThan(72);
    expect(checkPasswordPolicy(fullWidth, 'standard')).toEqual([]);
    expect(checkPasswordPolicy(toFullWidth('Password1!'), 'standard').join(' ')).toMatch(/too common/i);
  });
});

function toFullWidth(text: string): string {
  return [...text].map((c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0)).join('');
}

describe('Unicode passwords end to end', () => {
  let gh: TestServer;
  beforeAll(async () => {
    gh = await startTestServer();
  });
  afterAll(() => gh?.close());

  const login = (email: string, password: string) => trpcHttp(gh.url, 'auth.login', { email, password });
  const nfc = 'Crème-Brûlée-Façade-42';

  it('signs in whether the password is typed composed (NFC) or decomposed (NFD)', async () => {
    for (const [typed, retyped] of [[nfc, nfc.normalize('NFD')], [nfc.normalize('NFD'), nfc]]) {
      const { email } = newAccount();
      expect((await trpcHttp(gh.url, 'auth.register', { email, password: typed })).status).toBe(200);
      expect((await login(email, retyped!)).status).toBe(200);
      expect((await login(email, typed!)).status).toBe(200);
    }
  });

  it('takes a full-width password that is short once normalized, and its ASCII twin', async () => {
    const { email } = newAccount();
    expect((await trpcHttp(gh.url, 'auth.register', { email, password: toFullWidth('Correct-Horse-Battery-42x') })).status).toBe(200);
    expect((await login(email, 'Correct-Horse-Battery-42x')).status).toBe(200);
  });

  it('keeps accounts hashed before normalization working, in the form they were typed and then in either', async () => {
    const { email } = newAccount('legacy');
    const decomposed = nfc.normalize('NFD');
    // As the service stored it before: bcrypt of the bytes as typed.
    await insertUser(gh.deps.database.db, { email, passwordHash: await hash(decomposed, { cost: 4 }), roles: ['user'] });
    expect((await login(email, decomposed)).status).toBe(200);
    expect((await login(email, nfc)).status).toBe(200);
    expect((await login(email, 'Creme-Brulee-Facade-42')).status).toBe(401);
  });
});
