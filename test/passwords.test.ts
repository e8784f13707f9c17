// The password policy (PASSWORD_POLICY), unit by unit and end to end on a server of each policy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dictionary } from '@zxcvbn-ts/language-common';
import { checkPasswordPolicy } from '../server/services/passwords.ts';
import { newAccount, startTestServer, trpcHttp, type TestServer } from './helpers/server.ts';

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
    expect(checkPasswordPolicy('Tr1cky', 'standard')).toEqual(['Must be at least 8 characters long']);
    expect(checkPasswordPolicy('tr1ckyones', 'standard')).toEqual(['Must contain an upper-case letter']);
    expect(checkPasswordPolicy('TRICKYONES', 'standard')).toEqual(['Must contain a lower-case letter', 'Must contain a digit']);
  });

  it('nist: 15 bytes, no composition rule; still refuses common and personal passwords and more than 72 bytes', () => {
    expect(checkPasswordPolicy('plain lowercase words', 'nist')).toEqual([]);
    expect(checkPasswordPolicy('Tr1ckyOne', 'nist')).toEqual(['Must be at least 15 characters long']);
    expect(checkPasswordPolicy('123456789987654321', 'nist').join(' ')).toMatch(/too common/i);
    expect(checkPasswordPolicy('ada.lovelace and more words', 'nist', ['ada.lovelace'])).toEqual(['Must not contain your email or name']);
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
