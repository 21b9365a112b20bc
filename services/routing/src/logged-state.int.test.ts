// The leader's logged state over the real broker and store (ADR 0014): a change is in the log before it is
// answered, a successor rebuilds it from the snapshot plus the log (holds derived from the tickets), a
// deposed leader's appends after its successor's epoch marker are ignored, a failed append stops the
// leader, and two concurrent changes of one ticket cannot both win.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createKafkaLog, type KafkaLog } from "@steward/messaging";
import { connectStore } from "@steward/store";
import { createLogger } from "@steward/telemetry";
import { storedAgent } from "../test-support/routing-test-support.ts";
import { isolatedEnv } from "@steward/testkit";
import { newTicketDoc } from "./domain-mapping.ts";
import { LoggedState, NEW_TICKET_HORIZON_MS, NotLeaderError, ROUTING_LOG_TOPIC } from "./logged-state.ts";
import { RoutingStore, type TicketDoc } from "./routing-store.ts";

const t = isolatedEnv("routing-logged-state");
let conn: Awaited<ReturnType<typeof connectStore>>;
let store: RoutingStore;
const logs: KafkaLog[] = [];
const logger = createLogger("routing-logged-state-test", "silent");

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new RoutingStore(conn.db);
  await store.init();
});

afterAll(async () => {
  for (const l of logs) await l.close();
  await conn?.close();
});

/** One instance's state over the shared store and log; `leader` says whether its lease is (still) valid. */
async function instance(leader: { now: boolean }, snapshotMs = 60_000, followHoldMs = 0): Promise<LoggedState> {
  const log = createKafkaLog({ brokers: t.brokers, clientId: "logged-state-test", topicPrefix: t.topicPrefix, name: ROUTING_LOG_TOPIC, retentionMs: 86_400_000 });
  logs.push(log);
  await log.ensure();
  return new LoggedState({ store, log, logger, snapshotMs, isLeader: () => leader.now, followHoldMs });
}

async function agent(id: string): Promise<void> {
  await store.agents.insertOne(storedAgent(id));
}

function ticket(id: string): TicketDoc {
  return newTicketDoc({ ticketId: id, channel: "email", group: "g", overflowGroup: null, language: "en", priority: "P3", requiredSkills: [], subject: "s" }, Date.now());
}

/** The ticket offered to `agentId`: the change the ledger makes when it offers. */
function offered(doc: TicketDoc, agentId: string): TicketDoc {
  const now = Date.now();
  return {
    ...doc,
    version: doc.version + 1,
    pendingOffers: [{ offerId: `${doc._id}:1`, ticketId: doc._id, agentId, channel: doc.channel, offeredAt: now, expiresAt: now + 60_000 }],
    offersMade: 1,
    updatedAt: now,
  };
}

describe("the logged state", () => {
  it("rebuilds a crashed leader's changes from the snapshot and the log, holds included", async () => {
    await agent("ls-a1");
    const a = { now: true };
    const first = await instance(a);
    await first.takeOver(1, "first");
    const doc = ticket("ls-t1");
    expect(await first.insertTicket(doc)).toBe(true);
    expect(await first.insertTicket(doc)).toBe(false); // exists already
    expect(await first.acquireHold("ls-a1", { ticketId: doc._id, channel: "email", kind: "offer", at: Date.now() }, true)).toBe(true);
    expect(await first.casTicket(offered(doc, "ls-a1"), doc.version, { status: "waiting" })).toBe(true);
    // Nothing was written behind yet (snapshot every 60 s): the store knows nothing of the offer.
    const stored = await store.getTicket(doc._id);
    expect(stored?.pendingOffers ?? []).toEqual([]);

    // The first leader dies without a word; the next one rebuilds from the snapshot and the log.
    a.now = false;
    const second = await instance({ now: true });
    const report = await second.takeOver(2, "second");
    expect(report.replayed).toBeGreaterThanOrEqual(2);
    // Its own account of where the take-over's time went: every step, adding up to the whole.
    const steps = [report.storeReadsMs, report.logReadMs, report.epochAppendMs, report.agentsMs, report.firstFlushMs];
    expect(steps.every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
    expect(steps.reduce((x, y) => x + y, 0)).toBe(report.ms);
    // The two store reads run side by side: each took at most the phase they share.
    expect(report.prepared).toBe(0);
    expect(report.snapshotMs + Math.max(report.liveTicketsMs, report.recentlyResolvedMs)).toBeLessThanOrEqual(report.storeReadsMs);
    expect(report.logReadMs).toBeGreaterThan(0); // a Kafka consumer joins and reads: never free
    const rebuilt = await second.getTicket(doc._id);
    expect(rebuilt?.version).toBe(doc.version + 1);
    expect(rebuilt?.pendingOffers.map((o) => o.agentId)).toEqual(["ls-a1"]);
    const holder = await second.getAgent("ls-a1");
    expect(Object.values(holder?.holds ?? {}).map((h) => h.ticketId)).toEqual([doc._id]);
    expect(holder?.free.email).toBe(1);
    await second.handBack(); // writes the snapshot
    const snapshot = await store.snapshots.findOne({ _id: "log" });
    expect(snapshot?.epoch).toBe(2);
    expect((await store.getTicket(doc._id))?.version).toBe(doc.version + 1);
    expect(Object.keys((await store.getAgent("ls-a1"))?.holds ?? {})).toHaveLength(1);
  });

  it("ignores what a deposed leader appends after its successor's epoch marker", async () => {
    const oldLease = { now: true };
    const deposed = await instance(oldLease);
    await deposed.takeOver(3, "deposed");
    const doc = ticket("ls-t2");
    expect(await deposed.insertTicket(doc)).toBe(true);

    const successor = await instance({ now: true });
    await successor.takeOver(4, "successor");
    // The deposed leader still believes it leads (a pause, a skewed clock) and changes the ticket.
    expect(await deposed.casTicket({ ...doc, version: doc.version + 1, subject: "written by the deposed leader" }, doc.version, {})).toBe(true);
    // The successor's own change of the same ticket.
    expect(await successor.casTicket({ ...doc, version: doc.version + 1, subject: "written by the successor" }, doc.version, {})).toBe(true);

    const third = await instance({ now: true });
    const report = await third.takeOver(5, "third");
    expect(report.fenced).toBe(1);
    expect((await third.getTicket(doc._id))?.subject).toBe("written by the successor");
    await third.handBack();
  });

  it("refuses changes when it is not the leader, and after a failed append", async () => {
    const lease = { now: true };
    const state = await instance(lease);
    await expect(state.insertTicket(ticket("ls-t3"))).rejects.toBeInstanceOf(NotLeaderError); // before its take-over
    await state.takeOver(6, "poisoned");
    lease.now = false;
    await expect(state.insertTicket(ticket("ls-t3"))).rejects.toBeInstanceOf(NotLeaderError);
    lease.now = true;
    const doc = ticket("ls-t4");
    expect(await state.insertTicket(doc)).toBe(true);
    // The log refuses the next append (closed here; a broker outage past the producer's retries in production).
    await logs.at(-1)?.close();
    await expect(state.casTicket({ ...doc, version: doc.version + 1 }, doc.version, {})).rejects.toBeInstanceOf(NotLeaderError);
    // Everything after it is refused too, so nothing is acted on past a hole in the log.
    await expect(state.insertTicket(ticket("ls-t5"))).rejects.toBeInstanceOf(NotLeaderError);
  });

  it("lets exactly one of two concurrent changes of a ticket win", async () => {
    const state = await instance({ now: true });
    await state.takeOver(7, "racer");
    const doc = ticket("ls-t6");
    expect(await state.insertTicket(doc)).toBe(true);
    const results = await Promise.all([
      state.casTicket({ ...doc, version: doc.version + 1, subject: "one" }, doc.version, { status: "waiting" }),
      state.casTicket({ ...doc, version: doc.version + 1, subject: "two" }, doc.version, { status: "waiting" }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await state.casTicket({ ...doc, version: doc.version + 2 }, doc.version + 1, { status: "owned" })).toBe(false); // a guard that does not hold
    await state.handBack();
  });

  it("creates a young ticket it has not seen without asking the store, still finds one resolved before or during its leadership, and knows those are resolved without a read", async () => {
    const reads = vi.spyOn(store, "getTicket");
    try {
      const resolved = (doc: TicketDoc): TicketDoc => ({ ...doc, version: doc.version + 1, status: "resolved", resolvedAt: Date.now(), outbox: [], updatedAt: Date.now() });
      const now = () => ({ receivedAt: Date.now() });
      const first = await instance({ now: true });
      await first.takeOver(20, "first");
      reads.mockClear();

      // New, accepted by intake a moment ago: no store read.
      const fresh = ticket("ls-n1");
      expect(await first.insertTicket(fresh, now())).toBe(true);
      expect(reads).not.toHaveBeenCalled();
      expect(first.stats().insertedWithoutRead).toBe(1);

      // Resolved during this leadership and evicted from memory by the snapshot write: the same id again
      // (a redelivered first triage) is found, not created twice.
      expect(await first.casTicket(resolved(fresh), fresh.version, { status: "waiting" })).toBe(true);
      await first.flush();
      expect(first.stats().recentlyResolved).toBe(1);
      // An SLA update or escalation after the resolution learns "resolved" without a read.
      expect(first.knownResolved("ls-n1")).toBe(true);
      expect(first.knownResolved("ls-never")).toBe(false);
      expect(reads).not.toHaveBeenCalled();
      expect(await first.insertTicket(ticket("ls-n1"), now())).toBe(false);
      expect(reads).toHaveBeenCalledWith("ls-n1");
      // Read back (as a reopen does): memory decides from here, not the note.
      expect(first.knownResolved("ls-n1")).toBe(false);

      // Resolved under the previous leader and in its snapshot (not replayed, not a live ticket): loaded by id
      // at the take-over, so it is found too.
      const before = ticket("ls-n2");
      expect(await first.insertTicket(before, now())).toBe(true);
      expect(await first.casTicket(resolved(before), before.version, { status: "waiting" })).toBe(true);
      await first.handBack();
      const second = await instance({ now: true });
      await second.takeOver(21, "second");
      expect(second.stats().recentlyResolved).toBeGreaterThanOrEqual(2); // ls-n1 and ls-n2, by id only
      reads.mockClear();
      expect(second.knownResolved("ls-n2")).toBe(true);
      expect(await second.insertTicket(ticket("ls-n2"), now())).toBe(false);
      expect(reads).toHaveBeenCalledWith("ls-n2");

      // Accepted longer ago than the horizon (a triage backlog): the store is asked, as without the hint.
      await store.tickets.insertOne({ ...resolved(ticket("ls-n3")), resolvedAt: Date.now() - 2 * NEW_TICKET_HORIZON_MS });
      const old = { receivedAt: Date.now() - 2 * NEW_TICKET_HORIZON_MS };
      expect(await second.insertTicket(ticket("ls-n3"), old)).toBe(false);
      expect(await second.insertTicket(ticket("ls-n4"), old)).toBe(true);
      expect(reads.mock.calls.map(([id]) => id)).toEqual(expect.arrayContaining(["ls-n3", "ls-n4"]));
      // No hint at all (a follow-up's triage): the store is asked.
      reads.mockClear();
      expect(await second.insertTicket(ticket("ls-n5"))).toBe(true);
      expect(reads).toHaveBeenCalledWith("ls-n5");
      await second.handBack();
    } finally {
      reads.mockRestore();
    }
  });

  it("holds a new ticket back from the log until its next change or the end of the step, then appends it whole", async () => {
    await agent("ls-d1");
    const leader = await instance({ now: true });
    await leader.takeOver(30, "deferring");
    const start = leader.lastOffset;
    const young = { receivedAt: Date.now(), deferAppend: true };

    // Offered in the same step: the offer's append is the only record, and it holds the queued ticket too.
    const doc = ticket("ls-d-offered");
    expect(await leader.insertTicket(doc, young)).toBe(true);
    expect(leader.isDeferred(doc._id)).toBe(true);
    expect(leader.lastOffset).toBe(start);
    await leader.flush(); // not the record yet: the snapshot leaves it out
    expect(await store.getTicket(doc._id)).toBeNull();
    expect(await leader.acquireHold("ls-d1", { ticketId: doc._id, channel: "email", kind: "offer", at: Date.now() }, true)).toBe(true);
    expect(await leader.casTicket(offered(doc, "ls-d1"), doc.version, { status: "waiting" })).toBe(true);
    expect(leader.isDeferred(doc._id)).toBe(false);
    expect(leader.lastOffset).toBe(start + 1);

    // Not offered: appended at the end of the step.
    const waiting = ticket("ls-d-waiting");
    expect(await leader.insertTicket(waiting, young)).toBe(true);
    expect((await leader.appendDeferred()).map((d) => d._id)).toEqual([waiting._id]);
    expect(await leader.appendDeferred()).toEqual([]);
    expect(leader.lastOffset).toBe(start + 2);

    // A successor that never saw a snapshot of them rebuilds both from those two records.
    const successor = await instance({ now: true });
    await successor.takeOver(31, "after-deferring");
    expect((await successor.getTicket(doc._id))?.pendingOffers.map((o) => o.agentId)).toEqual(["ls-d1"]);
    expect((await successor.getTicket(waiting._id))?.status).toBe("waiting");
    await successor.handBack();
  });

  it("a standby that followed the log replays the tail from memory, as a reader of the log would", async () => {
    await agent("ls-f1");
    const a = { now: true };
    const first = await instance(a);
    await first.takeOver(40, "first-followed");
    await first.flush(); // its first snapshot (written behind): offsets after it are the tail
    const standby = await instance({ now: true }, 60_000, 30_000);
    standby.follow();
    await vi.waitFor(() => expect(standby.following()?.position ?? -1).toBeGreaterThanOrEqual(first.lastOffset + 1), { timeout: 10_000 });

    const doc = ticket("ls-f-t1");
    expect(await first.insertTicket(doc)).toBe(true);
    expect(await first.acquireHold("ls-f1", { ticketId: doc._id, channel: "email", kind: "offer", at: Date.now() }, true)).toBe(true);
    expect(await first.casTicket(offered(doc, "ls-f1"), doc.version, { status: "waiting" })).toBe(true);
    a.now = false; // the first leader dies without a word

    const report = await standby.takeOver(41, "standby");
    expect(report.fromFollower).toBe(2); // the insert and the offer, from memory
    expect(report.replayed).toBeGreaterThanOrEqual(1);
    expect(standby.following()).toBeNull(); // a leader appends the log; it does not follow it
    const rebuilt = await standby.getTicket(doc._id);
    expect(rebuilt?.version).toBe(doc.version + 1);
    expect(rebuilt?.pendingOffers.map((o) => o.agentId)).toEqual(["ls-f1"]);
    expect(Object.values((await standby.getAgent("ls-f1"))?.holds ?? {}).map((h) => h.ticketId)).toEqual([doc._id]);
    await standby.handBack(); // writes the snapshot, then stands by again
    expect(standby.following()).not.toBeNull();
    await standby.stopFollowing();

    // A standby that started following after the tail it would need holds none of it: it reads the log.
    const b = { now: true };
    const third = await instance(b);
    await third.takeOver(42, "third");
    const doc2 = ticket("ls-f-t2");
    expect(await third.insertTicket(doc2)).toBe(true);
    const late = await instance({ now: true }, 60_000, 30_000);
    late.follow();
    await vi.waitFor(() => expect(late.following()?.position ?? -1).toBeGreaterThanOrEqual(third.lastOffset + 1), { timeout: 10_000 });
    b.now = false;
    const lateReport = await late.takeOver(43, "late");
    expect(lateReport.fromFollower).toBe(-1);
    expect((await late.getTicket(doc2._id))?.status).toBe("waiting");
    await late.handBack();
    await late.stopFollowing();
  });

  it("off the leader, a read brings the store's snapshot up to date from the standby's tail of the log", async () => {
    await agent("ls-r1");
    const a = { now: true };
    const leader = await instance(a); // a snapshot every 60 s: only the explicit flushes below write one
    await leader.takeOver(45, "reads-leader");
    await leader.flush(); // its first snapshot, written behind: the reads below start from it
    const follower = await instance({ now: false }, 60_000, 30_000);
    const unfollowing = await instance({ now: false }); // the store's copy alone, as every read was before
    follower.follow();
    await vi.waitFor(() => expect(follower.following()?.position ?? -1).toBeGreaterThanOrEqual(leader.lastOffset + 1), { timeout: 10_000 });

    const doc = ticket("ls-r-t1");
    expect(await leader.insertTicket(doc)).toBe(true);
    expect(await leader.acquireHold("ls-r1", { ticketId: doc._id, channel: "email", kind: "offer", at: Date.now() }, true)).toBe(true);
    const offer = offered(doc, "ls-r1");
    expect(await leader.casTicket(offer, doc.version, { status: "waiting" })).toBe(true);
    // Not in the store yet, but in the log: the follower answers with the leader's copy, the other with none.
    expect(await store.getTicket(doc._id)).toBeNull();
    expect(await unfollowing.getTicket(doc._id)).toBeNull();
    await vi.waitFor(async () => expect((await follower.getTicket(doc._id))?.version).toBe(offer.version), { timeout: 10_000 });
    expect((await follower.getTicket(doc._id))?.pendingOffers.map((o) => o.agentId)).toEqual(["ls-r1"]);
    const offeredTo = await follower.getAgent("ls-r1");
    expect(Object.values(offeredTo?.holds ?? {}).map((h) => h.ticketId)).toEqual([doc._id]);
    expect(offeredTo?.free.email).toBe(1);
    expect((await unfollowing.getAgent("ls-r1"))?.free.email).toBe(2);

    // The snapshot catches up: the store answers, and what the tail held before its offset is let go.
    await leader.flush();
    expect((await store.getTicket(doc._id))?.version).toBe(offer.version);
    expect((await follower.getTicket(doc._id))?.version).toBe(offer.version);
    expect(follower.stats().followedTickets).toBe(0);

    // The offer is withdrawn after the snapshot: the stored agent still holds it, the follower's read does not.
    const withdrawn: TicketDoc = { ...offer, version: offer.version + 1, pendingOffers: [], updatedAt: Date.now() };
    expect(await leader.releaseHold("ls-r1", doc._id, "email")).toBe(true);
    expect(await leader.casTicket(withdrawn, offer.version, {})).toBe(true);
    expect(Object.keys((await store.getAgent("ls-r1"))?.holds ?? {})).toHaveLength(1);
    await vi.waitFor(async () => expect((await follower.getAgent("ls-r1"))?.free.email).toBe(2), { timeout: 10_000 });
    expect((await follower.getAgent("ls-r1"))?.holds).toEqual({});
    expect(follower.stats().followedTickets).toBe(1);

    // A successor's epoch marker fences the old leader, which still believes it leads: the follower skips
    // what it appends after the marker, as a take-over would.
    const successor = await instance({ now: true });
    await successor.takeOver(46, "reads-successor");
    expect(await successor.casTicket({ ...withdrawn, version: withdrawn.version + 1, subject: "written by the successor" }, withdrawn.version, {})).toBe(true);
    // Appended after the successor's change, so without the fence the tail's newest record would be this one.
    expect(await leader.casTicket({ ...withdrawn, version: withdrawn.version + 1, subject: "written by the deposed leader" }, withdrawn.version, {})).toBe(true);
    const deposedOffset = leader.lastOffset;
    await vi.waitFor(() => expect(follower.following()?.position ?? -1).toBeGreaterThan(deposedOffset), { timeout: 10_000 });
    expect((await follower.getTicket(doc._id))?.subject).toBe("written by the successor");

    a.now = false;
    await leader.handBack();
    await successor.handBack();
    for (const s of [leader, successor, follower]) await s.stopFollowing();
  });

  it("a take-over starts from store reads prepared while the lease ran out, and the log brings it up to date", async () => {
    await agent("ls-p1");
    const a = { now: true };
    const holder = await instance(a);
    await holder.takeOver(50, "holder");
    const doc = ticket("ls-p-t1");
    expect(await holder.insertTicket(doc)).toBe(true);
    await holder.flush(); // the snapshot has the ticket, waiting

    const next = await instance({ now: true });
    next.prepare(); // the holder missed a renewal: read the store ahead
    next.prepare(); // a second hint while one is held reads nothing more
    // The holder is still alive for a moment: it offers the ticket, creates another and writes a snapshot.
    expect(await holder.acquireHold("ls-p1", { ticketId: doc._id, channel: "email", kind: "offer", at: Date.now() }, true)).toBe(true);
    expect(await holder.casTicket(offered(doc, "ls-p1"), doc.version, { status: "waiting" })).toBe(true);
    const other = ticket("ls-p-t2");
    expect(await holder.insertTicket(other)).toBe(true);
    await holder.flush();
    a.now = false;

    const report = await next.takeOver(51, "next");
    expect(report.prepared).toBe(1);
    expect(report.replayed).toBeGreaterThanOrEqual(2); // what happened after the prepared reads, from the log
    expect((await next.getTicket(doc._id))?.pendingOffers.map((o) => o.agentId)).toEqual(["ls-p1"]);
    expect((await next.getTicket(other._id))?.status).toBe("waiting");
    expect(Object.values((await next.getAgent("ls-p1"))?.holds ?? {}).map((h) => h.ticketId)).toEqual([doc._id]);
    await next.handBack();

    // Without a hint, the take-over reads the store itself.
    const plain = await instance({ now: true });
    expect((await plain.takeOver(52, "plain")).prepared).toBe(0);
    await plain.handBack();
  });
});
