// What intake accepts from any channel, normalised to one ticket model.
import { CHANNELS } from "@steward/proto/vocabulary";

// The channel list is Steward's one vocabulary (the proto enum's names).
export { CHANNELS };
export type ChannelName = (typeof CHANNELS)[number];

export interface CustomerRef {
  id: string;
  name?: string;
  email?: string;
  phone?: string;
  tier?: "standard" | "vip";
  language?: string;
}

export interface IncomingSubmission {
  channel: ChannelName;
  externalId: string;
  customer: CustomerRef;
  subject?: string;
  /** The customer's new text (for e-mail: quoted history and signature removed). */
  body: string;
  quotedText?: string;
  signature?: string;
  threadId?: string;
  /** Channel message ids this message answers, newest first (e-mail In-Reply-To, then References). */
  threadRefs?: string[];
  /** This message's own id in its channel (e-mail Message-ID): later replies thread by it. */
  channelMessageId?: string;
  metadata?: Record<string, string>;
  channelRefs?: Record<string, string>;
  /** Set when the integration posts to a known ticket's messages. */
  ticketId?: string;
  integrationId: string;
}

/** A submission that passed validation; the adapter adds the integration it authenticated. */
export type ValidSubmission = Omit<IncomingSubmission, "integrationId">;

/** The idempotency key: one integration's delivery id, whatever path the submission came by. */
export function deliveryKey(integrationId: string, externalId: string): string {
  return `${integrationId}\u0000${externalId}`;
}

const REPLY_PREFIX = /^\s*((re|fw|fwd|aw|wg|sv|vs|antw|rif|r|tr|odp|ynt|ответ|відп|回复|答复|返信)\s*(\[\d+\])?\s*[:：]\s*)+/i;

/** A subject reduced to what identifies its topic: reply/forward prefixes, case and spacing removed. */
export function topicKey(subject: string | undefined): string | undefined {
  if (!subject) return undefined;
  const key = subject.replace(REPLY_PREFIX, "").replace(/\s+/g, " ").trim().toLowerCase();
  return key.length > 0 ? key : undefined;
}

export function topicThreadKey(customerId: string, topic: string): string {
  return `topic:${customerId}:${topic}`;
}

export function channelThreadKey(channel: string, threadId: string): string {
  return `thread:${channel}:${threadId}`;
}

/**
 * The keys a later message may thread by: its channel thread id, its own channel message id, and
 * (customer, topic) when it has a subject.
 */
export function threadLinksOf(sub: Pick<IncomingSubmission, "channel" | "threadId" | "channelMessageId" | "subject">, customerId: string): string[] {
  const keys: string[] = [];
  if (sub.threadId) keys.push(channelThreadKey(sub.channel, sub.threadId));
  if (sub.channelMessageId) keys.push(channelThreadKey(sub.channel, sub.channelMessageId));
  const topic = topicKey(sub.subject);
  if (topic) keys.push(topicThreadKey(customerId, topic));
  return [...new Set(keys)];
}
