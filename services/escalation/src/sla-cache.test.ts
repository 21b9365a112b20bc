import { describe, expect, it } from "vitest";
import { SlaCache } from "./sla-cache.ts";
import type { SlaDoc } from "./sla-store.ts";

function doc(id: string, rev: number): SlaDoc {
  const at = new Date(0);
  return {
    _id: id,
    record: "{}",
    status: "open",
    rev,
    policySeq: 1,
    nextWakeAt: null,
    leaseUntil: at,
    leaseOwner: null,
    appliedEvents: [],
    view: null,
    viewDirty: false,
    createdAt: at,
    updatedAt: at,
  };
}

describe("SlaCache", () => {
  it("keeps the newest revision of a ticket", () => {
    const cache = new SlaCache();
    cache.remember(doc("T-1", 3));
    cache.remember(doc("T-1", 2));
    expect(cache.get("T-1")?.rev).toBe(3);
    cache.remember(doc("T-1", 4));
    expect(cache.get("T-1")?.rev).toBe(4);
    cache.forget("T-1");
    expect(cache.get("T-1")).toBeUndefined();
  });

  it("forgets the least recently used ticket beyond its capacity", () => {
    const cache = new SlaCache(2);
    cache.remember(doc("T-1", 1));
    cache.remember(doc("T-2", 1));
    cache.get("T-1");
    cache.remember(doc("T-3", 1));
    expect(cache.get("T-2")).toBeUndefined();
    expect(cache.get("T-1")?.rev).toBe(1);
    expect(cache.get("T-3")?.rev).toBe(1);
  });
});
