// E-mail replies as RFC 5322 messages: threaded under the customer's message, the thread's References
// kept, the ticket's reference in the subject once, and the same bytes on every attempt.
import { describe, expect, it } from "vitest";
import { simpleParser } from "mailparser";
import { composeEmailReply, replySubject, type EmailReply } from "./outbound-mail.ts";

const reply: EmailReply = {
  deliveryId: "3f2a-delivery",
  ticketId: "T-1",
  from: "Acme Support <support@acme.example>",
  to: "kim@example.com",
  subject: "Refund",
  reference: "ST-ABCD-EFGH",
  text: "Your refund is on its way.",
  inReplyTo: "<m2@example.com>",
  references: "<m0@example.com> <m1@example.com>",
  occurredAt: new Date("2026-12-05T10:00:00.000Z"),
};

describe("e-mail replies", () => {
  it("thread under the customer's message and keep the thread", async () => {
    const mail = await simpleParser(await composeEmailReply(reply));
    expect(mail.inReplyTo).toBe("<m2@example.com>");
    expect(mail.references).toEqual(["<m0@example.com>", "<m1@example.com>", "<m2@example.com>"]);
    expect(mail.messageId).toBe("<3f2a-delivery@acme.example>");
    expect(mail.subject).toBe("Re: Refund [ST-ABCD-EFGH]");
    expect(mail.text?.trim()).toBe("Your refund is on its way.");
    expect(mail.headers.get("x-steward-delivery")).toBe("3f2a-delivery");
  });

  it("are the same bytes on every attempt", async () => {
    expect((await composeEmailReply(reply)).equals(await composeEmailReply(reply))).toBe(true);
  });

  it("do not stack Re: or the reference", () => {
    expect(replySubject("Re: Refund [ST-ABCD-EFGH]", "ST-ABCD-EFGH")).toBe("Re: Refund [ST-ABCD-EFGH]");
    expect(replySubject(null, "ST-1")).toBe("Re: Your request [ST-1]");
  });
});
