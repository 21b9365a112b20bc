// Customer identity keys and ticket references: normalised so the same person matches however they
// type an address or number, hashed so the store never holds them, and references found in free text.
import { describe, expect, it } from "vitest";
import { identityKeysOf, normaliseEmail, normaliseHandle, normalisePhone, parseReference, referencesIn, referenceThreadKey } from "./customer-identity.ts";
import { ticketReference } from "./acknowledgement.ts";

const SECRET = "customer-key-secret-for-tests";

describe("customer identity keys", () => {
  it("normalises addresses, numbers and handles, and refuses what is not one", () => {
    expect(normaliseEmail("  Ann.W@Example.COM ")).toBe("ann.w@example.com");
    expect(normaliseEmail("Ann W <ann@example.com>")).toBe("ann@example.com");
    expect(normaliseEmail("not an address")).toBeUndefined();
    expect(normalisePhone("+44 20 7946-0958")).toBe("+442079460958");
    expect(normalisePhone("0044 20 7946 0958")).toBe("+442079460958");
    expect(normalisePhone("12")).toBeUndefined();
    expect(normaliseHandle("@Ann_W")).toBe("ann_w");
  });

  it("derives the same keys for the same person on different channels, and never the value itself", () => {
    const byMail = identityKeysOf({ channel: "email", customer: { id: "email:abc", email: "Ann@Example.com" } }, SECRET);
    const byChat = identityKeysOf({ channel: "chat", customer: { id: "chat-77", email: "ann@example.com " } }, SECRET);
    expect(byMail[0]).toEqual(byChat[0]);
    expect(byMail[0]?.kind).toBe("email");
    expect(byMail.map((k) => k.key).join(" ")).not.toMatch(/ann|example/i);
    expect(byMail.at(-1)?.kind).toBe("id");
    expect(byMail.at(-1)?.key).not.toBe(byChat.at(-1)?.key);
  });

  it("keys phones and callback numbers alike, handles per platform, and depends on the secret", () => {
    const phone = identityKeysOf({ channel: "phone", customer: { id: "p1" }, channelRefs: { callbackNumber: "+1 555 0100 200" } }, SECRET);
    const chat = identityKeysOf({ channel: "chat", customer: { id: "c1", phone: "+15550100200" } }, SECRET);
    expect(phone[0]).toEqual(chat[0]);
    const x = identityKeysOf({ channel: "social", customer: { id: "s1" }, channelRefs: { handle: "@ann", platform: "x" } }, SECRET);
    const insta = identityKeysOf({ channel: "social", customer: { id: "s1" }, channelRefs: { handle: "ann", platform: "instagram" } }, SECRET);
    expect(x[0]?.kind).toBe("handle");
    expect(x[0]?.key).not.toBe(insta[0]?.key);
    expect(identityKeysOf({ channel: "chat", customer: { id: "c1" } }, "another-secret-entirely")[0]?.key).not.toBe(chat.at(-1)?.key);
  });

  it("lists each key once", () => {
    const keys = identityKeysOf({ channel: "phone", customer: { id: "p1", phone: "555 0100 200" }, channelRefs: { callbackNumber: "5550100200" } }, SECRET);
    expect(keys.map((k) => k.kind)).toEqual(["phone", "id"]);
  });
});

describe("ticket references", () => {
  it("finds the references quoted in a subject and body, in any case", () => {
    const ref = ticketReference("ticket-1");
    expect(referencesIn(`Re: Refund [${ref}]`, `about ${ref.toLowerCase()} and ST-0000-0000`)).toEqual([ref, "ST-0000-0000"]);
    expect(referencesIn("no reference here", undefined, "ST-ILOU-0000 is not Crockford")).toEqual([]);
  });

  it("parses one reference, and keys it", () => {
    expect(parseReference(" st-7k3m-q9xa ")).toBe("ST-7K3M-Q9XA");
    expect(parseReference("ST-7K3M")).toBeUndefined();
    expect(parseReference(undefined)).toBeUndefined();
    expect(referenceThreadKey("ST-7K3M-Q9XA")).toBe("ref:ST-7K3M-Q9XA");
  });
});
