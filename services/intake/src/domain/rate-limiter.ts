// Per-integration rate limits: one token bucket per integration, in this instance's memory (with N
// instances an integration may send up to N times its limit; the limit protects each instance).
import type { RateLimit } from "./integrations.ts";

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes one token from `key`'s bucket at time `now` (ms), or says how long until one is free. */
  take(key: string, limit: RateLimit, now: number): RateDecision {
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, at: now };
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsed / 1000) * limit.perSecond);
    bucket.at = Math.max(bucket.at, now);
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / limit.perSecond) * 1000) };
  }
}
