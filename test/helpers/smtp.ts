// A real SMTP server in the test process (nodemailer's smtp-server), keeping every message it accepts.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { recordSecret } from './log-capture.ts';

export interface Mail {
  to: string;
  /** The raw header lines, as received. */
  headers: string;
  subject: string;
  text: string;
  html: string;
  parsed: ParsedMail;
  /** The first link to PUBLIC_URL's /account/ pages, if any. */
  link: URL | undefined;
}

export interface TestSmtp {
  url: string;
  port: number;
  mails: Mail[];
  /** Resolves with the first mail (already received or to come) that matches. */
  waitFor(match: (mail: Mail) => boolean, timeoutMs?: number): Promise<Mail>;
  /** The mail to `address` whose link opens /account/`page`. */
  mailTo(address: string, page: string): Promise<Mail>;
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

export async function startSmtp(port = 0): Promise<TestSmtp> {
  const mails: Mail[] = [];
  const waiters: { match: (mail: Mail) => boolean; resolve: (mail: Mail) => void }[] = [];
  const create = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks);
          const parsed = await simpleParser(raw);
          const text = parsed.text ?? '';
          const href = /https?:\/\/\S+\/account\/[^\s"<>]+/.exec(text)?.[0];
          const link = href ? new URL(href) : undefined;
          recordSecret(link?.searchParams.get('token') ?? undefined);
          const mail: Mail = {
            to: session.envelope.rcptTo.map((r) => r.address).join(','),
            headers: raw.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '',
            subject: parsed.subject ?? '',
            text,
            html: typeof parsed.html === 'string' ? parsed.html : '',
            parsed,
            link,
          };
          mails.push(mail);
          for (const waiter of waiters.filter((w) => w.match(mail))) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(mail);
          }
          done();
        });
      },
    });
  let server = create();
  const listen = (at: number) => new Promise<void>((resolve, reject) => server.listen(at, '127.0.0.1', resolve).once('error', reject));
  await listen(port);
  const actual = (server.server.address() as AddressInfo).port;
  const waitFor = (match: (mail: Mail) => boolean, timeoutMs = 15_000): Promise<Mail> => {
    const found = mails.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      waiters.push(waiter);
      setTimeout(() => {
        const index = waiters.indexOf(waiter);
        if (index === -1) return;
        waiters.splice(index, 1);
        reject(new Error(`no matching mail within ${timeoutMs} ms (received: ${mails.map((m) => `${m.to} "${m.subject}"`).join('; ') || 'none'})`));
      }, timeoutMs);
    });
  };
  return {
    url: `smtp://127.0.0.1:${actual}`,
    port: actual,
    mails,
    waitFor,
    mailTo: (address, page) => waitFor((m) => m.to === address && m.link?.pathname === `/account/${page}`),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async restart() {
      server = create();
      await listen(actual);
    },
  };
}

/** The single-use token of a mail's link. */
export const tokenOf = (mail: Mail): string => mail.link!.searchParams.get('token')!;
