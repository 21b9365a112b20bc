// E-mail replies straight over SMTP (when OUTBOUND_SMTP_URL is set): an RFC 5322 message built with
// nodemailer's MailComposer, threaded under the customer's message (In-Reply-To and References), with a
// Message-ID derived from the delivery id so a re-sent copy is recognisably the same message.
import MailComposer from "nodemailer/lib/mail-composer";
import { createTransport } from "nodemailer";

export interface EmailReply {
  deliveryId: string;
  ticketId: string;
  from: string;
  to: string;
  subject: string | null;
  reference: string;
  text: string;
  /** Message-ID of the customer's message answered, e.g. "<abc@example.com>". */
  inReplyTo: string | null;
  /** That message's own References header (space-separated ids), so the whole thread is kept. */
  references: string | null;
  occurredAt: Date;
}

/** "Re: <subject> [<reference>]", without stacking "Re:" or the reference twice. */
export function replySubject(subject: string | null, reference: string): string {
  const base = (subject ?? "").trim() || "Your request";
  const re = /^re:/i.test(base) ? base : `Re: ${base}`;
  return re.includes(reference) ? re : `${re} [${reference}]`;
}

function domainOf(address: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(address);
  return m?.[1] ?? "steward.invalid";
}

/** The raw message: the same bytes for the same reply on every attempt (Date and Message-ID are fixed). */
export function composeEmailReply(r: EmailReply): Promise<Buffer> {
  const references = [...(r.references ?? "").split(/\s+/).filter(Boolean), ...(r.inReplyTo ? [r.inReplyTo] : [])];
  const mail = new MailComposer({
    from: r.from,
    to: r.to,
    subject: replySubject(r.subject, r.reference),
    text: r.text,
    messageId: `<${r.deliveryId}@${domainOf(r.from)}>`,
    date: r.occurredAt,
    ...(r.inReplyTo ? { inReplyTo: r.inReplyTo } : {}),
    ...(references.length > 0 ? { references: [...new Set(references)] } : {}),
    headers: { "X-Steward-Delivery": r.deliveryId, "X-Steward-Ticket": r.ticketId },
  });
  return new Promise((resolve, reject) => mail.compile().build((err, message) => (err ? reject(err) : resolve(message))));
}

export interface MailSender {
  send(from: string, to: string, raw: Buffer): Promise<void>;
  close(): void;
}

/** nodemailer's SMTP transport for a URL such as smtp://user:pass@mail.example:587. */
export function smtpSender(url: string, timeoutMs: number): MailSender {
  const transport = createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  return {
    async send(from, to, raw) {
      await transport.sendMail({ envelope: { from, to: [to] }, raw });
    },
    close: () => transport.close(),
  };
}
