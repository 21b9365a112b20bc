// What intake accepts from any channel, normalised to one ticket model.
export const CHANNELS = ["email", "chat", "phone", "social", "web", "api"] as const;
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
  body: string;
  threadId?: string;
  metadata?: Record<string, string>;
  channelRefs?: Record<string, string>;
  /** Set when the integration posts to a known ticket's messages. */
  ticketId?: string;
  integrationId: string;
}

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
