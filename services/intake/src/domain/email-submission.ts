// A parsed RFC 5322 message as a submission draft: the sender becomes the customer, the Message-ID the
// delivery id, In-Reply-To/References the threading refs. The draft then goes through the same
// validator as every other way in (which splits quoted history and signature off the text).
import { createHash } from "node:crypto";
import { SUBMISSION_LIMITS } from "./submission-validation.ts";

/** What intake needs from a parsed e-mail (the MIME parser is an adapter detail). */
export interface ParsedEmail {
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  from?: { address: string; name?: string };
  /** The receiving mailboxes (To), e.g. support@ or billing@. */
  to: string[];
  subject?: string;
  /** The plain text body (generated from HTML when the message has no text part). */
  text?: string;
  date?: Date;
  /** The Auto-Submitted header (RFC 3834) or "bulk" for Precedence: bulk/junk/list. */
  autoSubmitted?: string;
  attachmentCount: number;
  /** SHA-256 hex of the raw message: the delivery id when there is no Message-ID. */
  rawSha256: string;
}

export type EmailDraft = { ok: true; draft: Record<string, unknown> } | { ok: false; code: "EMAIL_NO_SENDER" | "EMAIL_EMPTY"; message: string };

/** A stable, pseudonymous customer id for an e-mail address (ids travel in logs and events; addresses should not). */
export function emailCustomerId(address: string): string {
  return `email:${createHash("sha256").update(address.trim().toLowerCase(), "utf8").digest("hex").slice(0, 24)}`;
}

function bracketed(id: string): string {
  const bare = id.trim().replace(/^<|>$/g, "");
  return `<${bare}>`;
}

export function emailDraft(mail: ParsedEmail): EmailDraft {
  const sender = mail.from?.address.trim();
  if (!sender) return { ok: false, code: "EMAIL_NO_SENDER", message: "the message has no From address" };
  const subject = mail.subject?.trim() ? mail.subject.trim().slice(0, SUBMISSION_LIMITS.subject) : undefined;
  const text = mail.text?.trim() ? mail.text : subject;
  if (!text) return { ok: false, code: "EMAIL_EMPTY", message: "the message has neither text nor a subject" };

  const ownId = mail.messageId?.trim().replace(/^<|>$/g, "");
  const externalId = ownId && ownId.length <= SUBMISSION_LIMITS.externalId ? ownId : `sha256:${ownId ? createHash("sha256").update(ownId).digest("hex") : mail.rawSha256}`;
  const references = mail.references.slice(-SUBMISSION_LIMITS.threadRefs).map(bracketed).join(" ");
  const channelRefs: Record<string, string> = {};
  const put = (key: string, value: string | undefined) => {
    if (value && value.length <= SUBMISSION_LIMITS.mapValue) channelRefs[key] = value;
  };
  put("messageId", ownId ? bracketed(ownId) : undefined);
  put("inReplyTo", mail.inReplyTo ? bracketed(mail.inReplyTo) : undefined);
  put("references", references || undefined);
  put("mailbox", mail.to[0]);
  put("date", mail.date && Number.isFinite(mail.date.getTime()) ? mail.date.toISOString() : undefined);

  const metadata: Record<string, string> = {};
  if (mail.autoSubmitted && mail.autoSubmitted.toLowerCase() !== "no") metadata["autoSubmitted"] = mail.autoSubmitted.toLowerCase().slice(0, 64);
  if (mail.attachmentCount > 0) metadata["attachments"] = String(mail.attachmentCount);

  // A display name is a person's name: control characters (folded headers, tabs) become spaces, as names allow none.
  const name = mail.from?.name?.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return {
    ok: true,
    draft: {
      channel: "email",
      externalId,
      customer: {
        id: emailCustomerId(sender),
        email: sender.slice(0, SUBMISSION_LIMITS.customerEmail),
        ...(name ? { name: name.slice(0, SUBMISSION_LIMITS.customerName) } : {}),
      },
      ...(subject !== undefined ? { subject } : {}),
      body: text,
      channelRefs,
      metadata,
    },
  };
}
