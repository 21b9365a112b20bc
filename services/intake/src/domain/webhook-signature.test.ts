import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature } from "./webhook-signature.ts";

const secret = "0123456789abcdef-secret";
const body = Buffer.from('{"channel":"chat","externalId":"1"}');
const now = 1_740_000_000_000;
const ts = String(now / 1000);

describe("webhook signatures", () => {
  it("accepts a signature over timestamp and raw body", () => {
    const check = verifyWebhookSignature({ timestamp: ts, signature: signWebhook(secret, ts, body), deliveryId: undefined, rawBody: body }, [secret], now);
    expect(check.ok).toBe(true);
  });

  it("accepts any of several signatures and any of several secrets (rotation)", () => {
    const header = `v2=${"0".repeat(64)}, ${signWebhook("new-secret-0123456789", ts, body)}`;
    expect(verifyWebhookSignature({ timestamp: ts, signature: header, deliveryId: undefined, rawBody: body }, [secret, "new-secret-0123456789"], now).ok).toBe(true);
  });

  it("refuses a changed body, a wrong secret, a malformed header", () => {
    const sig = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature({ timestamp: ts, signature: sig, deliveryId: undefined, rawBody: Buffer.from(`${body.toString()} `) }, [secret], now)).toMatchObject({
      ok: false,
      code: "INVALID_SIGNATURE",
    });
    expect(verifyWebhookSignature({ timestamp: ts, signature: sig, deliveryId: undefined, rawBody: body }, ["another-secret-xxxxxx"], now)).toMatchObject({
      ok: false,
      code: "INVALID_SIGNATURE",
    });
    expect(verifyWebhookSignature({ timestamp: ts, signature: "sha256=abc", deliveryId: undefined, rawBody: body }, [secret], now)).toMatchObject({
      ok: false,
      code: "INVALID_SIGNATURE",
    });
    expect(verifyWebhookSignature({ timestamp: ts, signature: undefined, deliveryId: undefined, rawBody: body }, [secret], now)).toMatchObject({
      ok: false,
      code: "INVALID_SIGNATURE",
    });
    expect(verifyWebhookSignature({ timestamp: "yesterday", signature: sig, deliveryId: undefined, rawBody: body }, [secret], now)).toMatchObject({
      ok: false,
      code: "INVALID_SIGNATURE",
    });
  });

  it("refuses a timestamp outside the window, either way", () => {
    for (const offset of [-301, 301]) {
      const t = String(now / 1000 + offset);
      expect(verifyWebhookSignature({ timestamp: t, signature: signWebhook(secret, t, body), deliveryId: undefined, rawBody: body }, [secret], now)).toMatchObject({
        ok: false,
        code: "SIGNATURE_EXPIRED",
      });
    }
    const edge = String(now / 1000 - 299);
    expect(verifyWebhookSignature({ timestamp: edge, signature: signWebhook(secret, edge, body), deliveryId: undefined, rawBody: body }, [secret], now).ok).toBe(true);
  });

  it("binds the signature to the delivery id: a changed, added or dropped X-Steward-Delivery fails", () => {
    const sig = signWebhook(secret, ts, body, "d-1");
    expect(verifyWebhookSignature({ timestamp: ts, signature: sig, deliveryId: "d-1", rawBody: body }, [secret], now).ok).toBe(true);
    for (const deliveryId of ["d-2", undefined, ""]) {
      expect(verifyWebhookSignature({ timestamp: ts, signature: sig, deliveryId, rawBody: body }, [secret], now)).toMatchObject({ ok: false, code: "INVALID_SIGNATURE" });
    }
    const unsigned = signWebhook(secret, ts, body);
    expect(verifyWebhookSignature({ timestamp: ts, signature: unsigned, deliveryId: "d-3", rawBody: body }, [secret], now).ok).toBe(false);
  });

  it("refuses v1 signatures (no delivery id) with a message that says what changed", () => {
    const check = verifyWebhookSignature({ timestamp: ts, signature: `v1=${"a".repeat(64)}`, deliveryId: undefined, rawBody: body }, [secret], now);
    expect(check).toMatchObject({ ok: false, code: "INVALID_SIGNATURE" });
    expect(!check.ok && check.message).toMatch(/v1 signatures are no longer accepted/);
  });

  it("binds the signature to the timestamp", () => {
    const other = String(now / 1000 - 10);
    expect(verifyWebhookSignature({ timestamp: other, signature: signWebhook(secret, ts, body), deliveryId: undefined, rawBody: body }, [secret], now).ok).toBe(false);
  });
});
