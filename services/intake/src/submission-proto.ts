// The protobuf Submission (gRPC and the submissions topic) as the plain draft the domain validator
// reads. Proto3 has no "absent" for strings: empty strings are taken as not given.
import { channelFromProto, type Submission } from "@steward/proto";

export function draftFromProto(s: Submission): Record<string, unknown> {
  const c = s.customer;
  const opt = (v: string) => (v === "" ? undefined : v);
  return {
    channel: channelFromProto(s.channel) ?? `unknown channel ${s.channel}`,
    externalId: s.externalId,
    customer: c
      ? {
          id: c.id,
          name: opt(c.name),
          email: opt(c.email),
          phone: opt(c.phone),
          tier: opt(c.tier),
          language: opt(c.language),
        }
      : undefined,
    subject: opt(s.subject),
    body: s.body,
    threadId: opt(s.threadId),
    metadata: s.metadata,
    channelRefs: s.channelRefs,
    ticketId: opt(s.ticketId),
  };
}
