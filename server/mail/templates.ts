// The mail templates: one .txt (its first line `Subject: …`) and one .html per kind, in
// server/mail/templates/, read once at start so an operator can change the wording. Values are
// inserted as {{name}}; in HTML they are escaped.
import { readFileSync } from 'node:fs';
import { escapeHtml } from '../common/page.ts';

export const MAIL_KINDS = ['verify-email', 'password-reset', 'email-change-confirm', 'email-change-notice'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

type Template = { subject: string; text: string; html: string };

const DIR = new URL('./templates/', import.meta.url);
const PLACEHOLDER = /\{\{(\w+)\}\}/g;

function fill(template: string, values: Record<string, string>, escape: (text: string) => string): string {
  return template.replace(PLACEHOLDER, (_, key: string) => {
    if (!(key in values)) throw new Error(`mail template uses {{${key}}}, which it is not given`);
    return escape(values[key]!);
  });
}

/** No header can be smuggled into a subject or a display name. */
export const singleLine = (text: string) => text.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();

export function loadTemplates(dir: URL = DIR): (kind: MailKind, values: Record<string, string>) => RenderedMail {
  const templates = new Map<MailKind, Template>();
  for (const kind of MAIL_KINDS) {
    const text = readFileSync(new URL(`${kind}.txt`, dir), 'utf8');
    const match = /^Subject: (.+)\r?\n\r?\n?/.exec(text);
    if (!match) throw new Error(`mail template ${kind}.txt must start with a "Subject: " line`);
    templates.set(kind, { subject: match[1]!, text: text.slice(match[0].length), html: readFileSync(new URL(`${kind}.html`, dir), 'utf8') });
  }
  return (kind, values) => {
    const template = templates.get(kind)!;
    return {
      subject: singleLine(fill(template.subject, values, (v) => v)),
      text: fill(template.text, values, (v) => v),
      html: fill(template.html, values, escapeHtml),
    };
  };
}
