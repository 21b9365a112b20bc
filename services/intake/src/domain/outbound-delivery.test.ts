// The outbound webhook's schedule and signature: retries back off exponentially up to a cap, the last
// attempt fails for good, and a receiver verifies our request with the same check we apply inbound.
import { describe, expect, it } from "vitest";
import { outboundBody, outcomeOf, resultOfStatus, retryDelayMs, signedHeaders, type OutboundMessage } from "./outbound-delivery.ts";
import { verifyWebhookSignature } from "./webhook-signature.ts";

const policy = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 5_000 };

describe("outbound delivery", () => {
  it("backs off exponentially, capped", () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(a, policy))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it("retries until the last attempt, then fails with the reason", () => {
    expect(outcomeOf(1, resultOfStatus(503), policy, 10_000)).toEqual({ status: "retrying", attempt: 1, reason: "HTTP 503", nextAttemptAt: 11_000 });
    expect(outcomeOf(4, { ok: false, reason: "ECONNREFUSED" }, policy, 0)).toEqual({ status: "failed", attempt: 4, reason: "ECONNREFUSED" });
    expect(outcomeOf(2, resultOfStatus(204), policy, 0)).toEqual({ status: "delivered", attempt: 2 });
  });

  it("signs so that the inbound verifier accepts it, and the same body every attempt", () => {
    const m: OutboundMessage = {
      deliveryId: "d-1",
      ticketId: "T-1",
      kind: "reply",
      channel: "email",
      recipient: "kim@example.com",
      language: "en",
      text: "Hi",
      reference: "[#T-1]",
      messageId: "reply-1",
      inReplyTo: null,
      occurredAt: "2026-12-05T10:00:00.000Z",
    };
    const body = outboundBody(m);
    const now = Date.parse("2026-12-05T10:00:01.000Z");
    const h = signedHeaders("outbound-secret-0123", "desk", "d-1", body, now, 3);
    expect(h["x-steward-integration"]).toBe("desk");
    const check = verifyWebhookSignature(
      { timestamp: h["x-steward-timestamp"], signature: h["x-steward-signature"], deliveryId: h["x-steward-delivery"], rawBody: Buffer.from(body) },
      ["outbound-secret-0123"],
      now,
    );
    expect(check.ok).toBe(true);
    const tampered = verifyWebhookSignature(
      { timestamp: h["x-steward-timestamp"], signature: h["x-steward-signature"], deliveryId: "d-2", rawBody: Buffer.from(body) },
      ["outbound-secret-0123"],
      now,
    );
    expect(tampered.ok).toBe(false);
    expect(outboundBody(m)).toBe(body);
  });
});
