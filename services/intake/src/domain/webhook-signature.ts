// Signed webhooks: the sender signs `${timestamp}.${deliveryId}.${rawBody}` with HMAC-SHA256 (the
// delivery id empty when it sends none) and sends `X-Steward-Timestamp: <unix seconds>`,
// `X-Steward-Delivery: <id>` and `X-Steward-Signature: v2=<hex>` (several `v2=` entries, comma-separated,
// while a secret is rotated). The delivery id is signed so a replay cannot pass as a new delivery by
// changing or dropping that header. Signatures are compared in constant time, and a timestamp outside
// the tolerance window is refused so a captured request cannot be replayed later. `v1=` (timestamp and
// body only, before the delivery id was signed) is refused with a message saying what changed.
import { createHmac, timingSafeEqual } from "node:crypto";

export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export function signWebhook(secret: string, timestampSeconds: number | string, rawBody: Buffer | string, deliveryId = ""): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestampSeconds}.${deliveryId}.`, "utf8");
  mac.update(typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody);
  return `v2=${mac.digest("hex")}`;
}

export type SignatureCheck = { ok: true; signature: string } | { ok: false; code: "INVALID_SIGNATURE" | "SIGNATURE_EXPIRED"; message: string };

export interface SignedRequest {
  timestamp: string | undefined;
  signature: string | undefined;
  /** X-Steward-Delivery as sent (undefined when absent: signed as the empty string). */
  deliveryId: string | undefined;
  rawBody: Buffer;
}

/** Verifies a signed request against any of the integration's secrets. `now` in milliseconds. */
export function verifyWebhookSignature(req: SignedRequest, secrets: readonly string[], now: number, toleranceMs = DEFAULT_SIGNATURE_TOLERANCE_MS): SignatureCheck {
  if (req.timestamp === undefined || !/^\d{1,12}$/.test(req.timestamp)) {
    return { ok: false, code: "INVALID_SIGNATURE", message: "X-Steward-Timestamp must be the signing time in unix seconds" };
  }
  const signedAt = Number(req.timestamp) * 1000;
  if (Math.abs(now - signedAt) > toleranceMs) {
    return { ok: false, code: "SIGNATURE_EXPIRED", message: `the signature timestamp is more than ${Math.round(toleranceMs / 1000)} s away from our clock` };
  }
  const offered = (req.signature ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => /^v2=[0-9a-f]{64}$/i.test(s))
    .map((s) => Buffer.from(s.slice(3).toLowerCase(), "hex"));
  if (offered.length === 0) {
    const legacy = /(^|,)\s*v1=/i.test(req.signature ?? "");
    return {
      ok: false,
      code: "INVALID_SIGNATURE",
      message: legacy
        ? "v1 signatures are no longer accepted: sign `${timestamp}.${X-Steward-Delivery}.${body}` and send v2=<hex HMAC-SHA256>"
        : "X-Steward-Signature must be v2=<hex HMAC-SHA256>",
    };
  }
  for (const secret of secrets) {
    const expected = Buffer.from(signWebhook(secret, req.timestamp, req.rawBody, req.deliveryId ?? "").slice(3), "hex");
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return { ok: true, signature: expected.toString("hex") };
    }
  }
  return { ok: false, code: "INVALID_SIGNATURE", message: "the signature does not match the body" };
}
