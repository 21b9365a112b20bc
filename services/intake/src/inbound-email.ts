// Raw e-mail in: an RFC 5322/MIME message (as sent, or inside a provider's multipart/form-data post)
// parsed with mailparser into the plain ParsedEmail the domain maps to a submission.
import { createHash } from "node:crypto";
import { htmlToText } from "html-to-text";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import type { ParsedEmail } from "./domain/email-submission.ts";

/** Form fields inbound-mail providers put the raw message in (SendGrid "email", Mailgun "body-mime", others "mime"). */
export const MIME_FORM_FIELDS = ["email", "mime", "body-mime"] as const;

export class InvalidEmailError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "InvalidEmailError";
    this.code = code;
  }
}

/** HTML bodies longer than this are not converted to text (html-to-text is slow on huge documents). */
const MAX_HTML_TO_TEXT = 4_000_000;

function addresses(value: AddressObject | AddressObject[] | undefined): Array<{ address: string; name: string }> {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((a) => a.value).flatMap((a) => (a.address ? [{ address: a.address, name: a.name }] : []));
}

function headerText(mail: ParsedMail, name: string): string | undefined {
  const value = mail.headers.get(name);
  return typeof value === "string" ? value.trim() : undefined;
}

export async function parseRawEmail(raw: Buffer): Promise<ParsedEmail> {
  let mail: ParsedMail;
  try {
    mail = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: MAX_HTML_TO_TEXT });
  } catch {
    throw new InvalidEmailError("INVALID_EMAIL", "the message could not be parsed as RFC 5322/MIME");
  }
  const from = addresses(mail.from)[0];
  // mailparser derives text from HTML only for some layouts (not an HTML part inside multipart/mixed).
  const text = mail.text ?? (typeof mail.html === "string" && mail.html.length <= MAX_HTML_TO_TEXT ? htmlToText(mail.html, { wordwrap: false }) : undefined);
  const references = mail.references === undefined ? [] : Array.isArray(mail.references) ? mail.references : [mail.references];
  const autoSubmitted = headerText(mail, "auto-submitted");
  const precedence = headerText(mail, "precedence")?.toLowerCase();
  const bulk = precedence === "bulk" || precedence === "junk" || precedence === "list" ? "bulk" : undefined;
  return {
    ...(mail.messageId ? { messageId: mail.messageId } : {}),
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
    references,
    ...(from ? { from: { address: from.address, ...(from.name ? { name: from.name } : {}) } } : {}),
    to: addresses(mail.to).map((a) => a.address),
    ...(mail.subject !== undefined ? { subject: mail.subject } : {}),
    ...(text !== undefined ? { text } : {}),
    ...(mail.date ? { date: mail.date } : {}),
    ...((autoSubmitted ?? bulk) !== undefined ? { autoSubmitted: autoSubmitted ?? bulk } : {}),
    attachmentCount: mail.attachments.length,
    rawSha256: createHash("sha256").update(raw).digest("hex"),
  };
}

/** The raw message inside a multipart/form-data body, from the first known field that holds one. */
export async function mimeFromForm(body: Buffer, contentType: string): Promise<Buffer> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new InvalidEmailError("INVALID_MULTIPART", "the multipart/form-data body could not be parsed");
  }
  for (const field of MIME_FORM_FIELDS) {
    const value = form.get(field);
    if (typeof value === "string") return Buffer.from(value, "utf8");
    if (value !== null) return Buffer.from(await value.arrayBuffer());
  }
  throw new InvalidEmailError("MISSING_EMAIL_FIELD", `the form has none of the fields ${MIME_FORM_FIELDS.join(", ")}`);
}
