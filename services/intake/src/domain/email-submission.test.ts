import { describe, expect, it } from "vitest";
import { emailCustomerId, emailDraft, type ParsedEmail } from "./email-submission.ts";
import { validateSubmission } from "./submission-validation.ts";

const mail = (over: Partial<ParsedEmail> = {}): ParsedEmail => ({
  messageId: "<m2@mail.example>",
  inReplyTo: "<m1@acme.test>",
  references: ["<m0@mail.example>", "<m1@acme.test>"],
  from: { address: "Ana@Example.com", name: "Ana Souza" },
  to: ["support@acme.test"],
  subject: "Re: Refund for order 1234",
  text: "Any news?\n\nOn Mon, 3 Mar 2025 at 10:12, Support <support@acme.test> wrote:\n> We are on it.",
  date: new Date("2025-03-03T11:00:00Z"),
  attachmentCount: 0,
  rawSha256: "ab".repeat(32),
  ...over,
});

describe("emailDraft", () => {
  it("maps sender, ids and threading refs, and validates like any submission", () => {
    const d = emailDraft(mail());
    if (!d.ok) throw new Error(d.message);
    expect(d.draft).toMatchObject({
      channel: "email",
      externalId: "m2@mail.example",
      customer: { id: emailCustomerId("ana@example.com"), email: "Ana@Example.com", name: "Ana Souza" },
      subject: "Re: Refund for order 1234",
      channelRefs: {
        messageId: "<m2@mail.example>",
        inReplyTo: "<m1@acme.test>",
        references: "<m0@mail.example> <m1@acme.test>",
        mailbox: "support@acme.test",
        date: "2025-03-03T11:00:00.000Z",
      },
    });
    const check = validateSubmission(d.draft);
    if (!check.ok) throw new Error(JSON.stringify(check.issues));
    expect(check.submission.body).toBe("Any news?");
    expect(check.submission.quotedText).toContain("> We are on it.");
    expect(check.submission.threadRefs).toEqual(["m1@acme.test", "m0@mail.example"]);
    expect(check.submission.channelMessageId).toBe("m2@mail.example");
  });

  it("uses the raw message's hash as delivery id when there is no Message-ID", () => {
    const d = emailDraft(mail({ messageId: undefined }));
    expect(d.ok && d.draft["externalId"]).toBe(`sha256:${"ab".repeat(32)}`);
  });

  it("falls back to the subject for a message without text, and refuses one without either or without a sender", () => {
    const subjectOnly = emailDraft(mail({ text: "  " }));
    expect(subjectOnly.ok && subjectOnly.draft["body"]).toBe("Re: Refund for order 1234");
    expect(emailDraft(mail({ text: "", subject: "" }))).toMatchObject({ ok: false, code: "EMAIL_EMPTY" });
    const noSender = { ...mail() };
    delete noSender.from;
    expect(emailDraft(noSender)).toMatchObject({ ok: false, code: "EMAIL_NO_SENDER" });
  });

  it("marks automatic mail and counts attachments", () => {
    const d = emailDraft(mail({ autoSubmitted: "auto-replied", attachmentCount: 2 }));
    expect(d.ok && d.draft["metadata"]).toEqual({ autoSubmitted: "auto-replied", attachments: "2" });
    const human = emailDraft(mail({ autoSubmitted: "no" }));
    expect(human.ok && human.draft["metadata"]).toEqual({});
  });

  it("gives one customer id per address, whatever its case", () => {
    expect(emailCustomerId("Ana@Example.com ")).toBe(emailCustomerId("ana@example.com"));
    expect(emailCustomerId("ana@example.com")).not.toContain("ana");
  });
});
