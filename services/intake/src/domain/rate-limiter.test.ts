import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./rate-limiter.ts";

describe("TokenBuckets", () => {
  const limit = { perSecond: 2, burst: 3 };

  it("allows a burst, then refuses with the time until the next token", () => {
    const b = new TokenBuckets();
    expect([1, 2, 3].map(() => b.take("a", limit, 0).ok)).toEqual([true, true, true]);
    expect(b.take("a", limit, 0)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(b.take("a", limit, 250)).toEqual({ ok: false, retryAfterMs: 250 });
    expect(b.take("a", limit, 500)).toEqual({ ok: true });
  });

  it("refills at the configured rate up to the burst, and keeps integrations apart", () => {
    const b = new TokenBuckets();
    for (let i = 0; i < 3; i += 1) b.take("a", limit, 0);
    expect(b.take("b", limit, 0).ok).toBe(true);
    // 10 s later the bucket is full again, but holds no more than the burst.
    const later = [1, 2, 3, 4].map(() => b.take("a", limit, 10_000).ok);
    expect(later).toEqual([true, true, true, false]);
  });

  it("does not mint tokens when the clock goes backwards", () => {
    const b = new TokenBuckets();
    for (let i = 0; i < 3; i += 1) b.take("a", limit, 5_000);
    expect(b.take("a", limit, 1_000).ok).toBe(false);
    expect(b.take("a", limit, 5_100).ok).toBe(false);
  });
});
