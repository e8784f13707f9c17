// Where mail goes: an SMTP server (SMTP_URL) through nodemailer, or, outside production without
// SMTP_URL, the log, with the links, so that `npm start` works with no mail server.
import type { Transporter } from 'nodemailer';
import type { Logger } from '../logger.ts';
import { singleLine, type RenderedMail } from './templates.ts';

export interface OutgoingMail extends RenderedMail {
  to: { name: string | null; address: string };
}

export interface Mailer {
  kind: 'smtp' | 'log';
  /** Resolves once the server accepted the message; rejects otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function createMailer({ smtpUrl, from, log }: { smtpUrl: string | null; from: string; log: Logger }): Mailer {
  if (!smtpUrl) {
    return {
      kind: 'log',
      async send(mail) {
        log.info({ mail: { to: mail.to.address, subject: mail.subject, text: mail.text } }, 'mail not sent (no SMTP_URL): written here instead');
      },
      close() {},
    };
  }
  // nodemailer is loaded for the first mail, not at start. Timeouts well inside the outbox lease: a
  // hung server never holds a row past it.
  let transport: Promise<Transporter> | undefined;
  const open = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport({ url: smtpUrl, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 }, { from }),
    ));
  return {
    kind: 'smtp',
    async send(mail) {
      const name = mail.to.name ? singleLine(mail.to.name) : '';
      await (await open()).sendMail({ to: name ? { name, address: mail.to.address } : mail.to.address, subject: mail.subject, text: mail.text, html: mail.html });
    },
    close: () => void transport?.then((t) => t.close(), () => {}),
  };
}
