// Fuzzes every tRPC procedure over real HTTP with fast-check: random JSON, wrong types, huge
// strings and __proto__ keys, signed in and not. Whatever a client sends, the answer is 2xx or
// 4xx, never 5xx, never a stack trace. Procedures come from the router itself, so the ones added
// later are fuzzed without touching this file.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../../server/trpc/router.ts';
import { newAccount, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';

const RUNS = 20;
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: 'query' | 'mutation' | 'subscription' } }>)
  .filter(([, procedure]) => procedure._def.type !== 'subscription')
  .map(([path, procedure]) => ({ path, type: procedure._def.type as 'query' | 'mutation' }));

let gh: TestServer;
let accessToken: string;
beforeAll(async () => {
  // Limits out of the way: a 429 is a fine answer, but it would stop the fuzzing at the door.
  const high = { points: 1_000_000 };
  gh = await startTestServer({
    rateLimits: { login_ip_burst: high, login_ip: high, login_account_ip: high, login_account: high, register_ip: high, verify_ip: high, token_client: high, change_password_user: high },
  });
  accessToken = (await trpcHttp(gh.url, 'auth.register', newAccount())).body.result.data.accessToken;
});
afterAll(() => gh?.close());

const key = fc.oneof(fc.constantFrom('email', 'password', 'name', 'token', 'refreshToken', 'id', 'cursor', 'limit', '__proto__', 'constructor', 'prototype'), fc.string({ maxLength: 12 }));
const scalar = fc.oneof(fc.string({ maxLength: 64 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ unit: 'grapheme', maxLength: 32 }));
const huge = fc.constantFrom(10_000, 60_000, 120_000).map((n) => 'A'.repeat(n));
const value = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, scalar, huge, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(key, tie('tree'), { maxKeys: 5 })),
})).tree;

/** Objects shaped like real inputs (the right keys, values near the edges), to get past validation. */
const shaped = fc.record(
  {
    email: fc.oneof(fc.emailAddress(), scalar, huge),
    password: fc.oneof(fc.string({ minLength: 8, maxLength: 80 }), fc.string({ unit: 'grapheme', minLength: 20, maxLength: 40 }), scalar),
    name: fc.oneof(fc.string({ maxLength: 250 }), scalar),
    token: fc.oneof(fc.string({ maxLength: 9000 }), scalar),
    refreshToken: fc.oneof(fc.base64String({ maxLength: 64 }), scalar),
  },
  { requiredKeys: [] },
);

/** A JSON text, sometimes with a literal "__proto__" member that JSON.stringify would never write. */
const body = fc.oneof(
  shaped.map((v) => JSON.stringify(v)),
  value.map((v) => JSON.stringify(v) ?? 'null'),
  fc.tuple(value, value).map(([proto, rest]) => `{"__proto__":${JSON.stringify(proto) ?? 'null'},"email":${JSON.stringify(rest) ?? 'null'},"constructor":{"prototype":{"isAdmin":true}}}`),
  fc.string({ maxLength: 200 }),
);

async function call(path: string, type: 'query' | 'mutation', text: string, signedIn: boolean) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(signedIn ? { authorization: `Bearer ${accessToken}` } : {}) };
  const response =
    type === 'query'
      ? await fetch(`${gh.url}/trpc/${path}?input=${encodeURIComponent(text)}`, { headers })
      : await fetch(`${gh.url}/trpc/${path}`, { method: 'POST', headers, body: text });
  return { status: response.status, text: await response.text() };
}

describe('fuzzing every tRPC procedure', () => {
  it('finds procedures in the router', () => {
    expect(procedures.map((p) => p.path)).toEqual(expect.arrayContaining(['auth.login', 'auth.register', 'me.get']));
  });

  for (const { path, type } of procedures) {
    it(`${path} answers any input with 2xx or 4xx and no stack`, async () => {
      await fc.assert(
        fc.asyncProperty(body, fc.boolean(), async (text, signedIn) => {
          const { status, text: answer } = await call(path, type, text, signedIn);
          expect(status, `${path} ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(200);
          expect(status, `${path} ${text.slice(0, 200)}`).toBeLessThan(500);
          expect(answer).not.toMatch(/\bat [^\n]+:\d+:\d+|node_modules|server\/[a-z/-]+\.ts/);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('logged no internal error while fuzzing', () => {
    const errors = gh.logs.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
  });
});
