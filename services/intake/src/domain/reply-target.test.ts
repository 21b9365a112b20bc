// Replies go back where the customer last wrote, threaded under the message they answer.
import { describe, expect, it } from "vitest";
import { replyTarget, type Conversation } from "./reply-target.ts";

const ticket: Conversation = {
  channel: "email",
  customer: { id: "c-1", email: "kim@example.com", phone: "+4400" },
  channelRefs: {},
  messages: [
    { id: "m1", from: "customer", channel: "email", sequence: 1, channelRefs: { messageId: "<a@example.com>" } },
    { id: "r1", from: "agent", channel: "chat", sequence: 2 },
    { id: "m2", from: "customer", channel: "chat", sequence: 3 },
  ],
};

describe("replyTarget", () => {
  it("answers on the channel of the customer's latest message, under that message", () => {
    expect(replyTarget(ticket, "")).toMatchObject({ channel: "chat", recipient: "c-1", inReplyTo: { id: "m2" } });
  });

  it("threads under the message the agent named, still on the latest channel", () => {
    expect(replyTarget(ticket, "m1")).toMatchObject({ channel: "chat", inReplyTo: { id: "m1" } });
  });

  it("falls back to the ticket's channel and address", () => {
    expect(replyTarget({ ...ticket, messages: [] }, "")).toEqual({ channel: "email", recipient: "kim@example.com", inReplyTo: undefined });
  });
});
