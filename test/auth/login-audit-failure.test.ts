// The audit-failure policy: when the trail cannot be written, a sign-in neither passes nor fails
// silently. It is refused with 503, logged and counted, and leaves no usable session behind.
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../db/schema/index.ts';
import { newAccount, startTestServer, trpcHttp, type TestServer } from '../helpers/server.ts';

let gh: TestServer;
beforeAll(async () => {
  gh = await startTestServer();
});
afterAll(() => gh?.close());

const breakAudit = () => gh.deps.database.db.execute(sql`alter table auth_events add constraint audit_broken_for_test check (false) not valid`);
const repairAudit = () => gh.deps.database.db.execute(sql`alter table auth_events drop constraint audit_broken_for_test`);

describe('when audit rows cannot be written', () => {
  it('refuses a correct login with 503 and ends the session it had started; a wrong one gets 503, not 401', async () => {
    const account = newAccount();
    const { user } = (await trpcHttp(gh.url, 'auth.register', account)).body.result.data;
    const sessionsOf = async () => (await gh.deps.database.db.select().from(sessions).where(eq(sessions.userId, user.id))).length;
    const before = await sessionsOf();

    await breakAudit();
    try {
      const right = await trpcHttp(gh.url, 'auth.login', account);
      expect(right.status).toBe(503);
      expect(right.body.error.data.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(right.body)).not.toMatch(/accessToken|refreshToken|constraint|auth_events/);
      expect(await sessionsOf()).toBe(before);

      const wrong = await trpcHttp(gh.url, 'auth.login', { ...account, password: 'Wrong-Password-1' });
      expect(wrong.status).toBe(503);
    } finally {
      await repairAudit();
    }

    const metrics = await (await fetch(`${gh.url}/metrics`)).text();
    expect(metrics).toMatch(/gatehouse_audit_write_failures_total\{type="login"\} 1/);
    expect(metrics).toMatch(/gatehouse_audit_write_failures_total\{type="login_failed"\} 1/);
    const logged = gh.logs.filter((line) => line.includes('audit write failed'));
    expect(logged).toHaveLength(2);
    for (const line of logged) expect(line).not.toContain(account.password);

    // Repaired, the same login goes through.
    expect((await trpcHttp(gh.url, 'auth.login', account)).status).toBe(200);
  });
});
