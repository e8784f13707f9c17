// The mail outbox. A request writes the row in the transaction of the change that causes the mail;
// a worker in every instance delivers due rows. A row is claimed for a lease (FOR UPDATE SKIP
// LOCKED), so no two instances send it; a failure is retried with backoff, then marked failed.
// Tokens are made at delivery, so a row never holds a secret.
import { and, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { mailOutbox, type MailOutboxRow } from '../../db/schema/index.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Mailer, OutgoingMail } from '../mail/mailer.ts';
import type { MailKind, RenderedMail } from '../mail/templates.ts';
import type { Metrics } from '../metrics.ts';
import { issueToken, TOKEN_TTL_SECONDS } from './account-tokens.ts';
import type { Audit } from './audit.ts';
import { findUserByEmail, findUserById } from './users.ts';

export type MailJob =
  | { kind: 'verify-email'; userId: string }
  | { kind: 'verify-email'; email: string }
  | { kind: 'password-reset'; email: string; returnTo?: string | undefined }
  | { kind: 'password-reset'; userId: string }
  | { kind: 'email-change-confirm'; userId: string; newEmail: string }
  | { kind: 'email-change-notice'; userId: string; oldEmail: string; newEmail: string };

/** Writes the mail's row; pass the transaction of the change that causes it. */
export async function enqueueMail(tx: Db, job: MailJob): Promise<void> {
  const userId = 'userId' in job ? job.userId : null;
  const recipient = 'email' in job ? job.email : job.kind === 'email-change-confirm' ? job.newEmail : job.kind === 'email-change-notice' ? job.oldEmail : null;
  const payload =
    job.kind === 'email-change-confirm' || job.kind === 'email-change-notice' ? { newEmail: job.newEmail } : 'returnTo' in job && job.returnTo ? { returnTo: job.returnTo } : {};
  await tx.insert(mailOutbox).values({ kind: job.kind, userId, recipient, payload });
}

const DELIVERED_KEPT_MS = 7 * 86_400_000;

/** Deletes sent and dropped rows after a week; failed rows stay until an operator clears them. */
export async function purgeOutbox(db: Db, now = new Date()): Promise<void> {
  await db.delete(mailOutbox).where(and(inArray(mailOutbox.status, ['sent', 'dropped']), lt(mailOutbox.createdAt, new Date(now.getTime() - DELIVERED_KEPT_MS))));
}

export interface MailWorkerOptions {
  /** How often every instance looks for due rows; a request that writes one also wakes its own. */
  pollMs?: number;
  /** How long a claimed row is held: longer than the SMTP timeouts, so a slow send is never claimed twice. */
  leaseMs?: number;
  maxAttempts?: number;
  /** The delay before retry n (1-based). */
  backoffMs?: (attempt: number) => number;
}

const DEFAULTS = {
  pollMs: 5000,
  leaseMs: 120_000,
  maxAttempts: 8,
  backoffMs: (attempt: number) => Math.min(3_600_000, 30_000 * 2 ** (attempt - 1)),
};
const BATCH = 10;

export interface MailWorkerDeps {
  db: Db;
  mailer: Mailer;
  render(kind: MailKind, values: Record<string, string>): RenderedMail;
  config: Pick<Config, 'publicUrl' | 'emailVerification'>;
  audit: Audit;
  log: Logger;
  metrics: Metrics;
  options?: MailWorkerOptions;
}

/** A row ready to send, or why it is dropped. */
type Prepared = { mail: OutgoingMail; sent?: () => Promise<void> } | { drop: string };

export function createMailWorker({ db, mailer, render, config, audit, log, metrics, options = {} }: MailWorkerDeps) {
  const { pollMs, leaseMs, maxAttempts, backoffMs } = { ...DEFAULTS, ...options };
  const service = new URL(config.publicUrl).host;
  const link = (path: string, token: string, returnTo?: unknown) =>
    `${config.publicUrl}/account/${path}?token=${token}${typeof returnTo === 'string' ? `&return_to=${encodeURIComponent(returnTo)}` : ''}`;
  const greeting = (name: string | null) => (name ? ` ${name}` : '');

  async function claim(): Promise<MailOutboxRow[]> {
    const now = new Date();
    const due = db
      .select({ id: mailOutbox.id })
      .from(mailOutbox)
      .where(and(eq(mailOutbox.status, 'pending'), lte(mailOutbox.nextAttemptAt, now), or(isNull(mailOutbox.lockedUntil), lt(mailOutbox.lockedUntil, now))))
      .orderBy(mailOutbox.nextAttemptAt)
      .limit(BATCH)
      .for('update', { skipLocked: true });
    return db
      .update(mailOutbox)
      .set({ lockedUntil: new Date(now.getTime() + leaseMs), attempts: sql`${mailOutbox.attempts} + 1` })
      .where(inArray(mailOutbox.id, due))
      .returning();
  }

  async function prepare(row: MailOutboxRow): Promise<Prepared> {
    const kind = row.kind as MailJob['kind'];
    // Rows asked for by address (a reset, a resent verification) find their account only here.
    const user = row.userId ? await findUserById(db, row.userId) : row.recipient ? await findUserByEmail(db, row.recipient) : undefined;
    if (!user) return { drop: 'no such account' };
    const to = (address: string) => ({ name: user.name, address });
    const newEmail = String(row.payload.newEmail ?? '');
    switch (kind) {
      case 'password-reset': {
        if (!user.isActive) return { drop: 'account disabled' };
        const token = await issueToken(db, 'password_reset', user.id, user.email);
        const values = { service, greeting: greeting(user.name), email: user.email, link: link('reset-password', token, row.payload.returnTo), minutes: String(TOKEN_TTL_SECONDS.password_reset / 60) };
        return { mail: { to: to(user.email), ...render('password-reset', values) } };
      }
      case 'verify-email': {
        if (config.emailVerification === 'off') return { drop: 'verification is off' };
        if (user.emailVerified) return { drop: 'already verified' };
        const token = await issueToken(db, 'email_verification', user.id, user.email);
        const values = { service, greeting: greeting(user.name), email: user.email, link: link('verify-email', token), hours: String(TOKEN_TTL_SECONDS.email_verification / 3600) };
        return {
          mail: { to: to(user.email), ...render('verify-email', values) },
          sent: () => audit.record({ type: 'email_verification_sent', success: true, userId: user.id, ip: null, userAgent: null, metadata: { email: user.email } }),
        };
      }
      case 'email-change-confirm': {
        const token = await issueToken(db, 'email_change', user.id, newEmail);
        const values = { service, greeting: greeting(user.name), email: newEmail, link: link('confirm-email', token), hours: String(TOKEN_TTL_SECONDS.email_change / 3600) };
        return { mail: { to: to(newEmail), ...render('email-change-confirm', values) } };
      }
      case 'email-change-notice': {
        const values = { service, greeting: greeting(user.name), newEmail, publicUrl: config.publicUrl };
        return { mail: { to: to(row.recipient ?? user.email), ...render('email-change-notice', values) } };
      }
      default:
        return { drop: `unknown kind ${row.kind}` };
    }
  }

  const settle = (row: MailOutboxRow, changes: Partial<MailOutboxRow>) => db.update(mailOutbox).set({ lockedUntil: null, ...changes }).where(eq(mailOutbox.id, row.id));

  async function deliver(row: MailOutboxRow): Promise<void> {
    let prepared: Prepared;
    try {
      prepared = await prepare(row);
      if ('drop' in prepared) {
        await settle(row, { status: 'dropped', lastError: prepared.drop });
        metrics.mailDeliveries.inc({ kind: row.kind, outcome: 'dropped' });
        return;
      }
      await mailer.send(prepared.mail);
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const failed = row.attempts >= maxAttempts;
      await settle(row, failed ? { status: 'failed', lastError: message } : { nextAttemptAt: new Date(Date.now() + backoffMs(row.attempts)), lastError: message });
      metrics.mailDeliveries.inc({ kind: row.kind, outcome: failed ? 'failed' : 'retry' });
      log[failed ? 'error' : 'warn']({ err: error, outboxId: row.id, kind: row.kind, attempt: row.attempts }, failed ? 'mail delivery failed for good' : 'mail delivery failed; will retry');
      return;
    }
    await settle(row, { status: 'sent', sentAt: new Date(), lastError: null });
    metrics.mailDeliveries.inc({ kind: row.kind, outcome: 'sent' });
    await prepared.sent?.().catch((error: unknown) => log.error({ err: error, outboxId: row.id }, 'mail sent but not audited'));
  }

  /** Delivers every due row; returns how many were claimed. */
  async function deliverDue(): Promise<number> {
    let total = 0;
    for (let rows = await claim(); rows.length > 0; rows = await claim()) {
      total += rows.length;
      for (const row of rows) await deliver(row);
    }
    return total;
  }

  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  /** Runs deliverDue now, or once more after the run in progress. */
  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await deliverDue().catch((error: unknown) => log.error({ err: error }, 'mail outbox run failed'));
      } while (again && !stopped);
      running = null;
    })();
  }

  return {
    deliverDue,
    kick,
    /** Polls, starting with what an earlier run left pending; with pollMs 0 only kicks deliver. */
    start(): void {
      if (pollMs <= 0) return;
      timer = setInterval(kick, pollMs).unref();
      kick();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

export type MailWorker = ReturnType<typeof createMailWorker>;
