import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SUBMISSION_LIMITS, messageIds, phoneDigits, validateFollowUp, validateSubmission, type SubmissionCheck } from "./submission-validation.ts";

const base = { channel: "chat", externalId: "d-1", customer: { id: "c-1" }, body: "my app crashes on start" };

function issuesOf(check: SubmissionCheck): string[] {
  return check.ok ? [] : check.issues.map((i) => i.field);
}

function valid(check: SubmissionCheck) {
  if (!check.ok) throw new Error(`expected valid, got ${JSON.stringify(check.issues)}`);
  return check.submission;
}

describe("validateSubmission", () => {
  it("accepts a minimal submission and normalises it", () => {
    const s = valid(validateSubmission(base));
    expect(s).toMatchObject({ channel: "chat", externalId: "d-1", customer: { id: "c-1" }, body: "my app crashes on start", metadata: {}, channelRefs: {}, threadRefs: [] });
    expect(s.subject).toBeUndefined();
  });

  it("rejects what is not an object", () => {
    for (const input of [null, undefined, 42, "text", [], [base], true]) {
      const check = validateSubmission(input);
      expect(check.ok).toBe(false);
      expect(issuesOf(check)).toEqual(["(body)"]);
    }
  });

  it("names each missing or mistyped field", () => {
    expect(issuesOf(validateSubmission({}))).toEqual(["channel", "externalId", "customer", "body"]);
    expect(issuesOf(validateSubmission({ ...base, channel: "fax" }))).toEqual(["channel"]);
    expect(issuesOf(validateSubmission({ ...base, externalId: 7 }))).toEqual(["externalId"]);
    expect(issuesOf(validateSubmission({ ...base, customer: "c-1" }))).toEqual(["customer"]);
    expect(issuesOf(validateSubmission({ ...base, customer: {} }))).toEqual(["customer.id"]);
    expect(issuesOf(validateSubmission({ ...base, body: ["a"] }))).toEqual(["body"]);
    expect(issuesOf(validateSubmission({ ...base, extra: 1 }))).toEqual(["extra"]);
    expect(issuesOf(validateSubmission({ ...base, customer: { id: "c", vip: true } }))).toEqual(["customer.vip"]);
  });

  it("rejects blank bodies and ids, and text the store or Kafka cannot carry faithfully", () => {
    expect(issuesOf(validateSubmission({ ...base, body: " \n\t " }))).toEqual(["body"]);
    expect(issuesOf(validateSubmission({ ...base, externalId: "  " }))).toEqual(["externalId"]);
    expect(issuesOf(validateSubmission({ ...base, externalId: "a\nb" }))).toEqual(["externalId"]);
    expect(issuesOf(validateSubmission({ ...base, body: "broken \ud800 surrogate" }))).toEqual(["body"]);
    expect(issuesOf(validateSubmission({ ...base, body: "nul \u0000 inside" }))).toEqual(["body"]);
    expect(issuesOf(validateSubmission({ ...base, subject: "x".repeat(SUBMISSION_LIMITS.subject + 1) }))).toEqual(["subject"]);
    expect(issuesOf(validateSubmission({ ...base, body: "x".repeat(SUBMISSION_LIMITS.body + 1) }))).toEqual(["body"]);
  });

  it("checks customer details", () => {
    expect(issuesOf(validateSubmission({ ...base, customer: { id: "c", email: "not-an-address" } }))).toEqual(["customer.email"]);
    expect(issuesOf(validateSubmission({ ...base, customer: { id: "c", phone: "call me" } }))).toEqual(["customer.phone"]);
    expect(issuesOf(validateSubmission({ ...base, customer: { id: "c", tier: "gold" } }))).toEqual(["customer.tier"]);
    expect(issuesOf(validateSubmission({ ...base, customer: { id: "c", language: "EN" } }))).toEqual(["customer.language"]);
    expect(valid(validateSubmission({ ...base, customer: { id: "c", email: "ana@example.com", tier: "vip", language: "pt", phone: "+351 21 123 4567" } })).customer).toEqual({
      id: "c",
      email: "ana@example.com",
      tier: "vip",
      language: "pt",
      phone: "+351 21 123 4567",
    });
  });

  it("treats null as absent for optional fields only", () => {
    expect(valid(validateSubmission({ ...base, subject: null, threadId: null, metadata: null })).subject).toBeUndefined();
    expect(issuesOf(validateSubmission({ ...base, body: null }))).toEqual(["body"]);
  });

  it("only accepts map keys the store can hold", () => {
    expect(valid(validateSubmission({ ...base, metadata: { orderId: "42", "x-source": "app", "crm:id": "9" } })).metadata).toEqual({
      orderId: "42",
      "x-source": "app",
      "crm:id": "9",
    });
    for (const key of ["a.b", "$where", "", "__proto__", "has space", "x".repeat(65)]) {
      expect(issuesOf(validateSubmission({ ...base, metadata: JSON.parse(JSON.stringify({ [key]: "v" })) }))).toEqual(["metadata"]);
    }
    expect(issuesOf(validateSubmission({ ...base, metadata: { a: 1 } }))).toEqual(["metadata.a"]);
    const many = Object.fromEntries(Array.from({ length: SUBMISSION_LIMITS.mapEntries + 1 }, (_, i) => [`k${i}`, "v"]));
    expect(issuesOf(validateSubmission({ ...base, channelRefs: many }))).toEqual(["channelRefs"]);
  });

  it("keeps every submission's text under the event size budget", () => {
    const big = "é".repeat(2000);
    const metadata = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, big]));
    const channelRefs = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, big]));
    const check = validateSubmission({ ...base, body: "€".repeat(150_000), metadata, channelRefs });
    expect(issuesOf(check)).toEqual(["(body)"]);
  });

  describe("phone", () => {
    it("takes a callback request with the number and preferred time in channelRefs", () => {
      const s = valid(
        validateSubmission({
          ...base,
          channel: "phone",
          body: "Please call me about my invoice",
          channelRefs: { kind: "callback", callbackNumber: "+44 20 7946 0958", preferredTime: "2025-03-01T15:00:00+01:00" },
        }),
      );
      expect(s.channelRefs).toEqual({ kind: "callback", callbackNumber: "+442079460958", preferredTime: "2025-03-01T15:00:00+01:00" });
    });
    it("takes the callback number from the customer when channelRefs has none", () => {
      const s = valid(validateSubmission({ ...base, channel: "phone", customer: { id: "c", phone: "(555) 123-4567" }, channelRefs: { kind: "callback", preferredTime: "asap" } }));
      expect(s.channelRefs?.["callbackNumber"]).toBe("5551234567");
    });
    it("rejects a callback without a number, with a bad number or a bad time", () => {
      expect(issuesOf(validateSubmission({ ...base, channel: "phone", channelRefs: { kind: "callback" } }))).toEqual(["channelRefs.callbackNumber"]);
      expect(issuesOf(validateSubmission({ ...base, channel: "phone", channelRefs: { kind: "callback", callbackNumber: "12" } }))).toEqual(["channelRefs.callbackNumber"]);
      expect(
        issuesOf(validateSubmission({ ...base, channel: "phone", channelRefs: { kind: "callback", callbackNumber: "+4915112345678", preferredTime: "tomorrow afternoon" } })),
      ).toEqual(["channelRefs.preferredTime"]);
      expect(
        issuesOf(validateSubmission({ ...base, channel: "phone", channelRefs: { kind: "callback", callbackNumber: "+4915112345678", preferredTime: "2025-03-01T15:00:00" } })),
      ).toEqual(["channelRefs.preferredTime"]);
    });
    it("takes a voicemail transcript and checks its refs", () => {
      const s = valid(
        validateSubmission({
          ...base,
          channel: "phone",
          body: "Hi, this is Jo, my router is down again.",
          channelRefs: { kind: "voicemail", recordingUrl: "https://pbx.example/vm/9.wav", durationSeconds: "31" },
        }),
      );
      expect(s.channelRefs?.["kind"]).toBe("voicemail");
      expect(
        issuesOf(validateSubmission({ ...base, channel: "phone", channelRefs: { kind: "voicemail", recordingUrl: "http://insecure/vm.wav", durationSeconds: "a while" } })),
      ).toEqual(["channelRefs.recordingUrl", "channelRefs.durationSeconds"]);
      expect(issuesOf(validateSubmission({ ...base, channel: "phone", channelRefs: { kind: "fax" } }))).toEqual(["channelRefs.kind"]);
    });
  });

  describe("email", () => {
    const reply = [
      "Still no refund, please check again.",
      "",
      "Best regards,",
      "Ana Souza",
      "",
      "On Mon, 3 Mar 2025 at 10:12, Steward Support <support@acme.test> wrote:",
      "> We have refunded order 1234.",
    ].join("\n");

    it("splits quoted history and signature off the new text", () => {
      const s = valid(validateSubmission({ ...base, channel: "email", body: reply }));
      expect(s.body).toBe("Still no refund, please check again.");
      expect(s.signature).toBe("Best regards,\nAna Souza");
      expect(s.quotedText).toContain("We have refunded order 1234.");
    });

    it("threads by In-Reply-To first, then References newest first", () => {
      const s = valid(
        validateSubmission({
          ...base,
          channel: "email",
          channelRefs: { messageId: "<m3@mail.example>", inReplyTo: "<m2@acme.test>", references: "<m1@mail.example> <m2@acme.test>" },
        }),
      );
      expect(s.channelMessageId).toBe("m3@mail.example");
      expect(s.threadRefs).toEqual(["m2@acme.test", "m1@mail.example"]);
    });

    it("does not split other channels' text", () => {
      expect(valid(validateSubmission({ ...base, body: reply })).body).toBe(reply);
    });
  });

  it("names fields and rules in its issues, never the values (they end up in logs and dead letters)", () => {
    const secret = "jane.doe@example.com 4111 1111 1111 1111";
    const check = validateSubmission({
      channel: secret,
      externalId: `${secret}\n`,
      customer: { id: secret, email: secret, phone: secret, language: secret },
      subject: secret.repeat(100),
      body: `${secret}\u0000`,
      metadata: { [secret]: secret },
      [secret]: 1,
    });
    expect(check.ok).toBe(false);
    expect(JSON.stringify(check)).not.toContain("jane.doe");
    expect(JSON.stringify(check)).not.toContain("4111");
  });

  it("is total: any value gives a verdict, never an exception", () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withTypedArray: true }), (input) => {
        const check = validateSubmission(input);
        expect(typeof check.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            channel: fc.oneof(fc.constantFrom("email", "chat", "phone"), fc.string()),
            externalId: fc.string(),
            customer: fc.record({ id: fc.string() }),
            body: fc.string({ unit: "binary" }),
            subject: fc.string({ unit: "binary" }),
          },
          { requiredKeys: [] },
        ),
        (input) => {
          const check = validateSubmission(input);
          if (check.ok) expect(check.submission.body.trim().length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("validateFollowUp", () => {
  const ticket = { id: "t-1", channel: "web" as const, customer: { id: "c-3" } };
  it("takes the customer and default channel from the ticket", () => {
    const s = valid(validateFollowUp({ externalId: "r-1", from: "customer", body: "still nothing" }, ticket));
    expect(s).toMatchObject({ channel: "web", customer: { id: "c-3" }, ticketId: "t-1", body: "still nothing" });
    expect(valid(validateFollowUp({ externalId: "r-2", from: "customer", body: "hi", channel: "chat" }, ticket)).channel).toBe("chat");
  });
  it("rejects agent messages, unknown fields and bad channels", () => {
    expect(issuesOf(validateFollowUp({ externalId: "r-1", from: "agent", body: "x" }, ticket))).toEqual(["from"]);
    expect(issuesOf(validateFollowUp({ externalId: "r-1", from: "customer", body: "x", customer: { id: "other" } }, ticket))).toEqual(["customer"]);
    expect(issuesOf(validateFollowUp({ externalId: "r-1", from: "customer", body: "x", channel: "pigeon" }, ticket))).toEqual(["channel"]);
    expect(issuesOf(validateFollowUp("x", ticket))).toEqual(["(body)"]);
  });
});

describe("helpers", () => {
  it("normalises phone numbers", () => {
    expect(phoneDigits("+1 (555) 123-4567")).toBe("+15551234567");
    expect(phoneDigits("12345")).toBeUndefined();
    expect(phoneDigits("+1 555 CALL NOW")).toBeUndefined();
  });
  it("reads message ids with and without brackets", () => {
    expect(messageIds("<a@b> <c@d>")).toEqual(["a@b", "c@d"]);
    expect(messageIds("a@b")).toEqual(["a@b"]);
    expect(messageIds("")).toEqual([]);
  });
});
