// One customer across channels: the keys a submission names its customer by (e-mail addresses, phone
// numbers, channel handles, the integration's customer id), normalised and hashed with a secret so the
// store holds no address or number in the clear, and the ST-… ticket references a customer quotes.
// Pure: the store and the pipeline decide what a key found means (see ADR 0012).
import { createHmac } from "node:crypto";
import type { ChannelName, CustomerRef } from "./submission.ts";

/** What a submission says about who wrote it. */
export interface CustomerClues {
  channel: ChannelName;
  customer: CustomerRef;
  channelRefs?: Record<string, string> | undefined;
}

/** The kinds of key, in the order a lookup prefers them (an address says more than an id). */
export type IdentityKind = "email" | "phone" | "handle" | "id";

export interface IdentityKey {
  kind: IdentityKind;
  /** `<kind>:<hex HMAC-SHA256 of the normalised value>`: the store's _id, never the value itself. */
  key: string;
}

/** Lower-cased, trimmed; a display form `Ann <ann@x.org>` reduced to its address; undefined when it is not one. */
export function normaliseEmail(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  const address = (angle?.[1] ?? value).trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address) ? address : undefined;
}

/** Digits with an optional leading +; at least 6 digits, else undefined (an extension or a typo links nobody). */
export function normalisePhone(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  const digits = trimmed.replace(/\D/g, "");
  if (digits.length < 6 || digits.length > 20) return undefined;
  return trimmed.startsWith("+") || trimmed.startsWith("00") ? `+${digits.replace(/^00/, "")}` : digits;
}

/** A channel handle (`@Ann_W` on social, a chat user name): lower-case, without a leading @. */
export function normaliseHandle(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const h = value.trim().replace(/^@+/, "").toLowerCase();
  return h.length > 0 && h.length <= 256 ? h : undefined;
}

function hashed(kind: IdentityKind, scope: string, value: string, secret: string): IdentityKey {
  return { kind, key: `${kind}:${createHmac("sha256", secret).update(`${kind}\u0000${scope}\u0000${value}`, "utf8").digest("hex")}` };
}

/**
 * Every key the submission names its customer by, strongest first, without duplicates: the e-mail
 * address, the phone or callback number, a channel handle (`channelRefs.handle`, scoped by
 * `channelRefs.platform` or the channel), and the customer id the integration gave (which intake has
 * always treated as one customer across integrations).
 */
export function identityKeysOf(clues: CustomerClues, secret: string): IdentityKey[] {
  const out: IdentityKey[] = [];
  const email = normaliseEmail(clues.customer.email);
  if (email) out.push(hashed("email", "", email, secret));
  for (const phone of [clues.customer.phone, clues.channelRefs?.["callbackNumber"]]) {
    const p = normalisePhone(phone);
    if (p) out.push(hashed("phone", "", p, secret));
  }
  const handle = normaliseHandle(clues.channelRefs?.["handle"]);
  if (handle) out.push(hashed("handle", (clues.channelRefs?.["platform"] ?? clues.channel).toLowerCase(), handle, secret));
  out.push(hashed("id", "", clues.customer.id, secret));
  const seen = new Set<string>();
  return out.filter((k) => (seen.has(k.key) ? false : (seen.add(k.key), true)));
}

const CROCKFORD_CHARS = "0-9A-HJKMNP-TV-Z";
const REFERENCE = new RegExp(`\\bST-([${CROCKFORD_CHARS}]{4})-([${CROCKFORD_CHARS}]{4})\\b`, "gi");
const WHOLE_REFERENCE = new RegExp(`^ST-[${CROCKFORD_CHARS}]{4}-[${CROCKFORD_CHARS}]{4}$`);

/** A reference as written by a person (any case, spaces around) in its canonical form, or undefined. */
export function parseReference(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const upper = value.trim().toUpperCase();
  return WHOLE_REFERENCE.test(upper) ? upper : undefined;
}

/** The distinct ST-… references quoted in a subject and body, in the order they appear (subject first). */
export function referencesIn(...texts: ReadonlyArray<string | undefined>): string[] {
  const out: string[] = [];
  for (const text of texts) {
    if (!text) continue;
    for (const m of text.matchAll(REFERENCE)) {
      const ref = `ST-${(m[1] ?? "").toUpperCase()}-${(m[2] ?? "").toUpperCase()}`;
      if (!out.includes(ref)) out.push(ref);
    }
  }
  return out;
}

/** The thread key under which a ticket's reference points at it. */
export function referenceThreadKey(reference: string): string {
  return `ref:${reference}`;
}
