// The matcher lease over the real store: a holder that dies without giving the lease up (kill -9: it
// simply stops renewing) is replaced right when its lease runs out, not up to a renewal interval later,
// because a follower schedules its next try at the expiry it read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore } from "@steward/store";
import { createLogger } from "@steward/telemetry";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { MatcherLease } from "./matcher-lease.ts";
import { RoutingStore } from "./routing-store.ts";

const t = isolatedEnv("matcher-lease");
let conn: Awaited<ReturnType<typeof connectStore>>;
let store: RoutingStore;
const log = createLogger("matcher-lease-test", "silent");

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new RoutingStore(conn.db);
  await store.init();
});

afterAll(async () => {
  await conn?.close();
});

/** The store as a holder sees it; after kill() its lease takes never answer, as for a killed process. */
function dyingHolderStore(): { store: RoutingStore; kill: () => void; release: () => void } {
  let alive = true;
  const hung: Array<(err: Error) => void> = [];
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "takeLease") {
        return (...args: Parameters<RoutingStore["takeLease"]>) => (alive ? target.takeLease(...args) : new Promise<never>((_, reject) => hung.push(reject)));
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { store: proxy, kill: () => void (alive = false), release: () => hung.forEach((reject) => reject(new Error("the holder is gone"))) };
}

describe("matcher lease", () => {
  it("is taken by a follower right when a dead holder's lease runs out, not a renewal interval later", async () => {
    const leaseMs = 4_000;
    const renewMs = 3_000;
    // The holder's store stops answering after its first take: like a killed process, it never renews
    // and never gives the lease up.
    const dying = dyingHolderStore();
    const holderStore = dying.store;
    let holderTerm = 0;
    const holder = new MatcherLease({
      store: holderStore,
      owner: "holder",
      leaseMs,
      renewMs,
      log,
      events: { acquired: async (term) => void (holderTerm = term), lost: async () => undefined },
    });
    await holder.start();
    expect(holderTerm).toBeGreaterThan(0);
    dying.kill();
    const lease = await store.leases.findOne({ _id: "matcher" });
    const runsOutAt = lease?.leaseUntil ?? 0;
    expect(lease?.owner).toBe("holder");

    // The follower reads the holder's lease at once; its renewal interval alone would bring its next try
    // only at start + 3 s (lease still held) and the one after at start + 6 s, 2 s after the lease ran out.
    let takenAt = 0;
    let followerTerm = 0;
    const follower = new MatcherLease({
      store,
      owner: "follower",
      leaseMs,
      renewMs,
      log,
      events: {
        acquired: async (term) => {
          takenAt = Date.now();
          followerTerm = term;
        },
        lost: async () => undefined,
      },
    });
    await follower.start();
    expect(takenAt).toBe(0);
    await waitFor(() => takenAt > 0, { what: "the follower holding the lease", timeoutMs: 15_000, intervalMs: 20 });
    const late = takenAt - runsOutAt;
    process.stderr.write(`[matcher-lease] taken ${late} ms after the dead holder's lease ran out (renewal interval ${renewMs} ms)\n`);
    expect(late).toBeGreaterThanOrEqual(0);
    // Well under the 2 s a renewal-paced follower would be late here; the margin is for a loaded machine.
    expect(late).toBeLessThan(1_000);
    expect(followerTerm).toBe(holderTerm + 1);
    await follower.stop();
    dying.release();
    await holder.stop();
  });

  it("tells a follower the holder is late once a renewal is missed, and never while the holder renews", async () => {
    const leaseMs = 4_000;
    const renewMs = 1_000; // late: less than 4000 - 1.5 x 1000 = 2500 ms left on the holder's lease
    const dying = dyingHolderStore();
    const holderStore = dying.store;
    await store.leases.deleteOne({ _id: "matcher" });
    const holder = new MatcherLease({ store: holderStore, owner: "holder-2", leaseMs, renewMs, log, events: { acquired: async () => undefined, lost: async () => undefined } });
    await holder.start();
    const hints: number[] = [];
    let takenAt = 0;
    const follower = new MatcherLease({
      store,
      owner: "follower-2",
      leaseMs,
      renewMs,
      log,
      events: { acquired: async () => void (takenAt = Date.now()), lost: async () => undefined, holderLate: () => void hints.push(Date.now()) },
    });
    await follower.start();
    await new Promise((r) => setTimeout(r, 3_000)); // three renewals by a live holder: no hint
    expect(hints).toEqual([]);
    dying.kill();
    const runsOutAt = (await store.leases.findOne({ _id: "matcher" }))?.leaseUntil ?? 0;
    await waitFor(() => takenAt > 0, { what: "the follower holding the lease", timeoutMs: 15_000, intervalMs: 20 });
    expect(hints.length).toBeGreaterThan(0);
    // Hinted between the missed renewal and the take-over, ahead of it by at least one renewal interval.
    expect(hints[0]).toBeGreaterThanOrEqual(runsOutAt - 2_500 - 50);
    expect(hints[0]).toBeLessThanOrEqual(takenAt - renewMs + 200);
    await follower.stop();
    dying.release();
    await holder.stop();
  });
});
