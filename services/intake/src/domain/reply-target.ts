// Where an agent's public reply goes: back on the channel the customer last wrote on (a customer who
// opened by e-mail and followed up in chat is answered in chat), to that channel's address for them,
// threaded under the message it answers. Pure: the projector passes the ticket view it read.
import type { ChannelName, CustomerRef } from "./submission.ts";

export interface ConversationMessage {
  id: string;
  from: "customer" | "agent";
  channel: ChannelName;
  sequence: number;
  channelRefs?: Record<string, string>;
}

export interface Conversation {
  channel: ChannelName;
  customer: CustomerRef;
  channelRefs: Record<string, string>;
  messages: readonly ConversationMessage[];
}

export interface ReplyTarget {
  channel: ChannelName;
  recipient: string;
  /** The customer's message answered: the one the agent named, else the customer's latest. */
  inReplyTo: ConversationMessage | undefined;
}

/** The customer's address on a channel: e-mail address, callback number, else the customer id. */
export function recipientOn(channel: ChannelName, customer: CustomerRef, channelRefs: Record<string, string>): string {
  if (channel === "email" && customer.email) return customer.email;
  if (channel === "phone") return channelRefs["callbackNumber"] ?? customer.phone ?? customer.id;
  return customer.id;
}

export function replyTarget(t: Conversation, inReplyToMessageId: string): ReplyTarget {
  const fromCustomer = t.messages.filter((m) => m.from === "customer").sort((a, b) => a.sequence - b.sequence);
  const latest = fromCustomer[fromCustomer.length - 1];
  const named = inReplyToMessageId === "" ? undefined : fromCustomer.find((m) => m.id === inReplyToMessageId);
  const channel = latest?.channel ?? t.channel;
  return { channel, recipient: recipientOn(channel, t.customer, { ...t.channelRefs, ...(latest?.channelRefs ?? {}) }), inReplyTo: named ?? latest };
}
