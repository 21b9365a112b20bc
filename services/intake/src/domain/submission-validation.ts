// The one validator every way in (HTTP JSON, gRPC, the submissions topic, raw e-mail) passes through.
// It takes untrusted data of any shape and either names each problem or returns the normalised
// submission: channel rules applied (phone callbacks, e-mail threading), e-mail text split into the new
// text, quoted history and signature. Total: never throws, whatever it is given.
// The subpath keeps intake from loading triage's language model (~230 MB) just to split quoted text.
import { prepareCustomerText } from "@steward/text";
// The subpath is the plain rules module (no fastify): the same rules the HTTP schemas use.
import { TextRules, type TextRule as SharedTextRule } from "@steward/http/text-rules";
import { CHANNELS, type ChannelName, type CustomerRef, type ValidSubmission } from "./submission.ts";

export const SUBMISSION_LIMITS = {
  externalId: 256,
  customerId: 256,
  customerName: TextRules.name.schema.maxLength,
  customerEmail: 320,
  customerPhone: 64,
  subject: 1000,
  /** The customer's new text, in UTF-16 code units. */
  body: 200_000,
  /** An e-mail's whole text before quoted history is split off (the MIME limit bounds it first). */
  emailText: 2_000_000,
  threadId: 512,
  ticketId: TextRules.id.schema.maxLength,
  mapEntries: 64,
  mapKey: 64,
  mapValue: 2048,
  /** Quoted history and signatures are kept up to these lengths; longer ones are cut (they repeat older messages). */
  quotedText: 100_000,
  signature: 5_000,
  threadRefs: 20,
  /** UTF-8 bytes of all text of one submission: keeps every event well under Kafka's 1 MB record limit. */
  totalBytes: 768 * 1024,
} as const;

export interface ValidationIssue {
  /** Where the problem is, e.g. "customer.id" or "channelRefs.callbackNumber". */
  field: string;
  message: string;
}

export type SubmissionCheck = { ok: true; submission: ValidSubmission } | { ok: false; code: "VALIDATION_FAILED"; issues: ValidationIssue[] };

/** Raised by adapters that turn a failed check into an error; `code` maps to HTTP 400 / gRPC INVALID_ARGUMENT. */
export class SubmissionRejectedError extends Error {
  readonly code: string;
  readonly issues: ValidationIssue[];
  constructor(code: string, issues: ValidationIssue[]) {
    super(`${code}: ${describeIssues(issues)}`);
    this.name = "SubmissionRejectedError";
    this.code = code;
    this.issues = issues;
  }
}

/** "customer.id: is required; body: must contain text" — field names and rules only, never the values. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.field}: ${i.message}`);
  if (issues.length > 5) shown.push(`and ${issues.length - 5} more`);
  return shown.join("; ");
}

const SUBMISSION_FIELDS = new Set(["channel", "externalId", "customer", "subject", "body", "threadId", "metadata", "channelRefs", "ticketId"]);
const CUSTOMER_FIELDS = new Set(["id", "name", "email", "phone", "tier", "language"]);
const FOLLOW_UP_FIELDS = new Set(["externalId", "from", "body", "channel", "channelRefs"]);
const MAX_ISSUES = 20;

/** Map keys: short ASCII names (the store refuses keys with "." or a leading "$"). */
const MAP_KEY = /^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const EMAIL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const PHONE_KINDS = ["call", "callback", "voicemail"] as const;

type Issues = ValidationIssue[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface TextRule {
  max: number;
  /** An identifier: no control characters, not blank. */
  id?: boolean;
  /** Must contain something other than white space. */
  nonBlank?: boolean;
  /** The shared rule for this kind of text (@steward/http/text-rules), checked after the above. */
  shared?: SharedTextRule;
}

/** Checks a string field; undefined (and null for optional fields) means absent. */
function text(value: unknown, field: string, rule: TextRule, issues: Issues, required: boolean): string | undefined {
  if (value === undefined || (value === null && !required)) {
    if (required) issues.push({ field, message: "is required" });
    return undefined;
  }
  if (typeof value !== "string") {
    issues.push({ field, message: "must be a string" });
    return undefined;
  }
  if (!value.isWellFormed()) {
    issues.push({ field, message: "contains invalid Unicode (an unpaired surrogate)" });
    return undefined;
  }
  if (rule.id && CONTROL.test(value)) {
    issues.push({ field, message: "must not contain control characters" });
    return undefined;
  }
  if (value.includes("\u0000")) {
    issues.push({ field, message: "must not contain NUL characters" });
    return undefined;
  }
  if (value.length > rule.max) {
    issues.push({ field, message: `must be at most ${rule.max} characters` });
    return undefined;
  }
  if ((rule.id || rule.nonBlank) && value.trim().length === 0) {
    issues.push({ field, message: required ? (rule.id ? "must not be blank" : "must contain text") : "must not be blank" });
    return undefined;
  }
  const problem = rule.shared?.check(value);
  if (problem !== undefined) {
    issues.push({ field, message: problem });
    return undefined;
  }
  return value;
}

function stringMap(value: unknown, field: string, issues: Issues): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) {
    issues.push({ field, message: "must be an object of strings" });
    return {};
  }
  const entries = Object.entries(value);
  if (entries.length > SUBMISSION_LIMITS.mapEntries) {
    issues.push({ field, message: `must have at most ${SUBMISSION_LIMITS.mapEntries} entries` });
    return {};
  }
  const out: Array<[string, string]> = [];
  for (const [key, v] of entries) {
    if (!MAP_KEY.test(key)) {
      issues.push({ field: `${field}`, message: `keys must be 1-${SUBMISSION_LIMITS.mapKey} characters of A-Z a-z 0-9 _ : - (starting with a letter or digit)` });
      continue;
    }
    const s = text(v, `${field}.${key}`, { max: SUBMISSION_LIMITS.mapValue }, issues, true);
    if (s !== undefined) out.push([key, s]);
  }
  return Object.fromEntries(out);
}

function unknownFields(value: Record<string, unknown>, known: ReadonlySet<string>, prefix: string, issues: Issues): void {
  for (const key of Object.keys(value)) {
    // Names are echoed only when they look like field names: a key may carry anything, personal data included.
    if (!known.has(key)) issues.push({ field: /^[A-Za-z_][A-Za-z0-9_]{0,39}$/.test(key) ? `${prefix}${key}` : `${prefix}(unknown)`, message: "is not a known field" });
  }
}

function channelOf(value: unknown, issues: Issues, required: boolean): ChannelName | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value === "string" && (CHANNELS as readonly string[]).includes(value)) return value as ChannelName;
  issues.push({ field: "channel", message: `must be one of ${CHANNELS.join(", ")}` });
  return undefined;
}

function customerOf(value: unknown, issues: Issues): CustomerRef | undefined {
  if (!isRecord(value)) {
    issues.push({ field: "customer", message: value === undefined ? "is required" : "must be an object" });
    return undefined;
  }
  unknownFields(value, CUSTOMER_FIELDS, "customer.", issues);
  const id = text(value["id"], "customer.id", { max: SUBMISSION_LIMITS.customerId, id: true }, issues, true);
  const name = text(value["name"], "customer.name", { max: SUBMISSION_LIMITS.customerName, shared: TextRules.name }, issues, false);
  const email = text(value["email"], "customer.email", { max: SUBMISSION_LIMITS.customerEmail, id: true }, issues, false);
  if (email !== undefined && !EMAIL_ADDRESS.test(email)) issues.push({ field: "customer.email", message: "must be an e-mail address" });
  const phone = text(value["phone"], "customer.phone", { max: SUBMISSION_LIMITS.customerPhone, id: true }, issues, false);
  if (phone !== undefined && phoneDigits(phone) === undefined) issues.push({ field: "customer.phone", message: "must be a phone number (7 to 15 digits, optional +)" });
  const tier = value["tier"];
  if (tier !== undefined && tier !== null && tier !== "standard" && tier !== "vip") issues.push({ field: "customer.tier", message: "must be standard or vip" });
  const language = text(value["language"], "customer.language", { max: 2, id: true, shared: TextRules.language }, issues, false);
  if (id === undefined) return undefined;
  return {
    id,
    ...(name !== undefined ? { name } : {}),
    ...(email !== undefined ? { email } : {}),
    ...(phone !== undefined ? { phone } : {}),
    ...(tier === "standard" || tier === "vip" ? { tier } : {}),
    ...(language !== undefined ? { language } : {}),
  };
}

/** "+44 20 7946 0958" -> "+442079460958"; undefined unless it is 7 to 15 digits with an optional leading +. */
export function phoneDigits(phone: string): string | undefined {
  const compact = phone.replace(/[\s().-]/g, "");
  return /^\+?\d{7,15}$/.test(compact) ? compact : undefined;
}

/** "<a@b> <c@d>" or "a@b" -> ["a@b", "c@d"]: e-mail message ids without angle brackets. */
export function messageIds(value: string): string[] {
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? "");
  const ids = bracketed.length > 0 ? bracketed : value.split(/\s+/).map((s) => s.replace(/^<|>$/g, ""));
  return ids.filter((id) => id.length > 0 && id.length <= 998);
}

/** Phone submissions: a callback request names the number to call and may name a time; voicemails carry a transcript. */
function phoneRules(refs: Record<string, string>, customer: CustomerRef | undefined, issues: Issues): Record<string, string> {
  const kind = refs["kind"];
  if (kind === undefined) return refs;
  if (!(PHONE_KINDS as readonly string[]).includes(kind)) {
    issues.push({ field: "channelRefs.kind", message: `must be one of ${PHONE_KINDS.join(", ")}` });
    return refs;
  }
  const out = { ...refs };
  if (kind === "callback") {
    const given = refs["callbackNumber"] ?? customer?.phone;
    const digits = given === undefined ? undefined : phoneDigits(given);
    if (given === undefined) issues.push({ field: "channelRefs.callbackNumber", message: "is required for a callback request (or set customer.phone)" });
    else if (digits === undefined) issues.push({ field: "channelRefs.callbackNumber", message: "must be a phone number (7 to 15 digits, optional +)" });
    else out["callbackNumber"] = digits;
    const preferred = refs["preferredTime"];
    if (preferred !== undefined && preferred !== "asap" && !(ISO_DATE_TIME.test(preferred) && Number.isFinite(Date.parse(preferred)))) {
      issues.push({ field: "channelRefs.preferredTime", message: "must be an ISO 8601 date-time with a zone (2025-03-01T15:00:00+01:00) or asap" });
    }
  }
  if (kind === "voicemail") {
    const url = refs["recordingUrl"];
    if (url !== undefined && !(URL.canParse(url) && new URL(url).protocol === "https:")) issues.push({ field: "channelRefs.recordingUrl", message: "must be an https URL" });
    const duration = refs["durationSeconds"];
    if (duration !== undefined && !/^\d{1,6}$/.test(duration)) issues.push({ field: "channelRefs.durationSeconds", message: "must be a whole number of seconds" });
  }
  return out;
}

/** E-mail threading keys from the channel refs an e-mail integration sends (messageId, inReplyTo, references). */
function emailThreading(refs: Record<string, string>): { channelMessageId?: string; threadRefs: string[] } {
  const own = refs["messageId"] !== undefined ? messageIds(refs["messageId"])[0] : undefined;
  const inReplyTo = refs["inReplyTo"] !== undefined ? messageIds(refs["inReplyTo"]) : [];
  const references = refs["references"] !== undefined ? messageIds(refs["references"]).reverse() : [];
  const threadRefs = [...new Set([...inReplyTo, ...references])].filter((id) => id !== own).slice(0, SUBMISSION_LIMITS.threadRefs);
  return { ...(own !== undefined ? { channelMessageId: own } : {}), threadRefs };
}

function utf8Bytes(s: string | undefined): number {
  return s === undefined ? 0 : Buffer.byteLength(s, "utf8");
}

function mapBytes(m: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(m)) n += utf8Bytes(k) + utf8Bytes(v);
  return n;
}

/** Validates and normalises one submission of any shape. */
export function validateSubmission(input: unknown): SubmissionCheck {
  const issues: Issues = [];
  if (!isRecord(input)) return { ok: false, code: "VALIDATION_FAILED", issues: [{ field: "(body)", message: "must be an object" }] };
  unknownFields(input, SUBMISSION_FIELDS, "", issues);
  const channel = channelOf(input["channel"], issues, true);
  const externalId = text(input["externalId"], "externalId", { max: SUBMISSION_LIMITS.externalId, id: true }, issues, true);
  const customer = customerOf(input["customer"], issues);
  const subject = text(input["subject"], "subject", { max: SUBMISSION_LIMITS.subject, shared: TextRules.freeText(SUBMISSION_LIMITS.subject) }, issues, false);
  const isEmail = channel === "email";
  const rawBody = text(input["body"], "body", { max: isEmail ? SUBMISSION_LIMITS.emailText : SUBMISSION_LIMITS.body, nonBlank: true }, issues, true);
  const threadId = text(input["threadId"], "threadId", { max: SUBMISSION_LIMITS.threadId, id: true }, issues, false);
  const ticketId = text(input["ticketId"], "ticketId", { max: SUBMISSION_LIMITS.ticketId, id: true, shared: TextRules.id }, issues, false);
  const metadata = stringMap(input["metadata"], "metadata", issues);
  let channelRefs = stringMap(input["channelRefs"], "channelRefs", issues);
  if (channel === "phone") channelRefs = phoneRules(channelRefs, customer, issues);

  let body = rawBody;
  let quotedText = "";
  let signature = "";
  if (isEmail && rawBody !== undefined) {
    const prepared = prepareCustomerText(rawBody);
    body = prepared.newText;
    quotedText = prepared.quotedText.slice(0, SUBMISSION_LIMITS.quotedText);
    signature = prepared.signature.slice(0, SUBMISSION_LIMITS.signature);
    if (body.length > SUBMISSION_LIMITS.body) issues.push({ field: "body", message: `the new text must be at most ${SUBMISSION_LIMITS.body} characters` });
  }
  const threading = isEmail ? emailThreading(channelRefs) : { threadRefs: [] };

  if (issues.length === 0) {
    const total =
      utf8Bytes(body) +
      utf8Bytes(quotedText) +
      utf8Bytes(signature) +
      utf8Bytes(subject) +
      mapBytes(metadata) +
      mapBytes(channelRefs) +
      utf8Bytes(customer?.name) +
      utf8Bytes(threadId);
    if (total > SUBMISSION_LIMITS.totalBytes) issues.push({ field: "(body)", message: `all text together must be at most ${SUBMISSION_LIMITS.totalBytes} bytes of UTF-8` });
  }
  if (issues.length > 0 || channel === undefined || externalId === undefined || customer === undefined || body === undefined) {
    return { ok: false, code: "VALIDATION_FAILED", issues: issues.slice(0, MAX_ISSUES) };
  }
  return {
    ok: true,
    submission: {
      channel,
      externalId,
      customer,
      body,
      quotedText,
      signature,
      metadata,
      channelRefs,
      threadRefs: threading.threadRefs,
      ...(threading.channelMessageId !== undefined ? { channelMessageId: threading.channelMessageId } : {}),
      ...(subject !== undefined ? { subject } : {}),
      ...(threadId !== undefined ? { threadId } : {}),
      ...(ticketId !== undefined ? { ticketId } : {}),
    },
  };
}

/** A customer follow-up posted to a known ticket: the ticket supplies the customer and the default channel. */
export function validateFollowUp(input: unknown, ticket: { id: string; channel: ChannelName; customer: CustomerRef }): SubmissionCheck {
  if (!isRecord(input)) return { ok: false, code: "VALIDATION_FAILED", issues: [{ field: "(body)", message: "must be an object" }] };
  const issues: Issues = [];
  unknownFields(input, FOLLOW_UP_FIELDS, "", issues);
  if (input["from"] !== "customer") issues.push({ field: "from", message: "must be customer" });
  const channel = input["channel"] === undefined || input["channel"] === null ? ticket.channel : channelOf(input["channel"], issues, true);
  const check = validateSubmission({
    channel: channel ?? ticket.channel,
    externalId: input["externalId"],
    customer: ticket.customer,
    body: input["body"],
    channelRefs: input["channelRefs"],
    ticketId: ticket.id,
  });
  const all = [...issues, ...(check.ok ? [] : check.issues.filter((i) => !i.field.startsWith("customer") && i.field !== "ticketId"))];
  if (all.length > 0) return { ok: false, code: "VALIDATION_FAILED", issues: all.slice(0, MAX_ISSUES) };
  return check;
}
