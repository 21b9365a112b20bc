// Pushing outbound messages to a channel integration's webhook: the signed request (the same scheme
// integrations use towards us, so one verifier serves both ways), and the retry schedule that ends in a
// dead letter. Pure: the worker passes the clock, the attempt number and what the receiver answered.
import { signWebhook } from "./webhook-signature.ts";

export interface DeliveryPolicy {
  /** Attempts in all (the first included) before the message is dead-lettered. */
  maxAttempts: number;
  /** Wait after the first failed attempt; doubled after each further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** What the receiver sees: one JSON document, byte-for-byte the same on every attempt and re-delivery. */
export interface OutboundMessage {
  deliveryId: string;
  ticketId: string;
  /** "reply", "acknowledgement", ... */
  kind: string;
  channel: string;
  recipient: string;
  language: string;
  text: string;
  /** The ticket's reference for the customer (e.g. "[#T-1A2B3C]"). */
  reference: string;
  /** The conversation message sent (agents' replies); null for notices. */
  messageId: string | null;
  /** The channel's id of the customer's message answered (an e-mail's Message-ID), for threading. */
  inReplyTo: string | null;
  occurredAt: string;
}

export type AttemptResult = { ok: true } | { ok: false; reason: string };

export type AttemptOutcome =
  { status: "delivered"; attempt: number } | { status: "retrying"; attempt: number; reason: string; nextAttemptAt: number } | { status: "failed"; attempt: number; reason: string };

/** Wait before attempt `attempt + 1` after `attempt` failed: exponential, capped. */
export function retryDelayMs(attempt: number, policy: DeliveryPolicy): number {
  return Math.min(policy.baseDelayMs * 2 ** Math.max(0, attempt - 1), policy.maxDelayMs);
}

export function outcomeOf(attempt: number, result: AttemptResult, policy: DeliveryPolicy, now: number): AttemptOutcome {
  if (result.ok) return { status: "delivered", attempt };
  if (attempt >= policy.maxAttempts) return { status: "failed", attempt, reason: result.reason };
  return { status: "retrying", attempt, reason: result.reason, nextAttemptAt: now + retryDelayMs(attempt, policy) };
}

/** Any 2xx is accepted; everything else (a 4xx included: a receiver mid-deploy answers 404) is retried. */
export function resultOfStatus(status: number): AttemptResult {
  return status >= 200 && status < 300 ? { ok: true } : { ok: false, reason: `HTTP ${status}` };
}

export function outboundBody(m: OutboundMessage): string {
  return JSON.stringify({ type: "steward.outbound.message", ...m });
}

/** The request headers: signed over `${timestamp}.${deliveryId}.${body}` with HMAC-SHA256 (`v2=`). */
export function signedHeaders(secret: string, integrationId: string, deliveryId: string, body: string, nowMs: number, attempt: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "content-type": "application/json",
    "x-steward-timestamp": String(timestamp),
    "x-steward-delivery": deliveryId,
    "x-steward-signature": signWebhook(secret, timestamp, body, deliveryId),
    "x-steward-integration": integrationId,
    // Not signed, for the receiver's logs only: the body stays the same on every attempt.
    "x-steward-attempt": String(attempt),
  };
}
