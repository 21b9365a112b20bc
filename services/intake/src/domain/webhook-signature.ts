// Signed webhooks: the sender signs `${timestamp}.${rawBody}` with HMAC-SHA256 and sends
// `X-Steward-Timestamp: <unix seconds>` and `X-Steward-Signature: v1=<hex>` (several `v1=` entries,
// comma-separated, while a secret is rotated). Signatures are compared in constant time, and a
// timestamp outside the tolerance window is refused so a captured request cannot be replayed later.
import { createHmac, timingSafeEqual } from "node:crypto";

export const DEFAULT_SIGNATURE_TOLERANCE_MS = 5 * 60_000;

export function signWebhook(secret: string, timestampSeconds: number | string, rawBody: Buffer | string): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestampSeconds}.`, "utf8");
  mac.update(typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : rawBody);
  return `v1=${mac.digest("hex")}`;
}

export type SignatureCheck =
  | { ok: true; signature: string }
  | { ok: false; code: "INVALID_SIGNATURE" | "SIGNATURE_EXPIRED"; message: string };

export interface SignedRequest {
  timestamp: string | undefined;
  signature: string | undefined;
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
    .filter((s) => /^v1=[0-9a-f]{64}$/i.test(s))
    .map((s) => Buffer.from(s.slice(3).toLowerCase(), "hex"));
  if (offered.length === 0) {
    return { ok: false, code: "INVALID_SIGNATURE", message: "X-Steward-Signature must be v1=<hex HMAC-SHA256>" };
  }
  for (const secret of secrets) {
    const expected = Buffer.from(signWebhook(secret, req.timestamp, req.rawBody).slice(3), "hex");
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return { ok: true, signature: expected.toString("hex") };
    }
  }
  return { ok: false, code: "INVALID_SIGNATURE", message: "the signature does not match the body" };
}
