// Routing's state on the leader: tickets, agents' holds and free capacity live in memory, every ticket change
// is appended to the routing log (a one-partition topic, acks from all in-sync replicas) before the caller
// acts on it, and the store receives a snapshot written behind, in bulk, with the log offset it reflects
// (ADR 0014). A take-over loads the snapshot, replays the log after that offset (ignoring records of an epoch
// older than a later epoch marker: a deposed leader's), appends its own epoch marker, and derives every
// agent's holds from the tickets. A standby follows the log all along (`follow`), so the replay reads the
// tail from memory rather than joining a consumer group at the worst moment. Profiles and presence stay in the store (AgentDirectory writes them from any
// instance); the leader reads them on each agent event and keeps only capacity here.
// Off the leader a change is refused with NotLeaderError, and a read of a ticket or an agent goes to the store
// and is brought up to date from the standby's tail of the log: the records after the snapshot's offset
// override the stored copies (`#caughtUpTail`), so such reads trail the leader by the follower's lag, not by
// the snapshot interval. Before the tail reaches back to the snapshot (just started, or a gap), the store's
// copy is the answer, as it was before (ADR 0020).
import type { KafkaLog, LogFollower, ReadRecord } from "@steward/messaging";
import type { Logger } from "@steward/telemetry";
import type { Channel, ChannelCounts } from "./domain/index.ts";
import type { RoutingState } from "./routing-state.ts";
import { holdKey, type AgentDoc, type Hold, type OfferDoc, type OutboxEntry, type RoutingStore, type TicketDoc, type TicketHintDoc } from "./routing-store.ts";

/** A change attempted on an instance that is not (or no longer) the leader. */
export class NotLeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotLeaderError";
  }
}

/** The routing log's record types (JSON; the `steward-schema` header names the version). */
export type LogEntry = { v: 1; epoch: number; type: "ticket"; doc: TicketDoc } | { v: 1; epoch: number; type: "epoch"; leader: string; at: number };

export const LOG_SCHEMA = "steward.routing.log.v1";

/** The routing log's topic (one partition; the prefix is prepended). */
export const ROUTING_LOG_TOPIC = "steward.routing.log";

export interface SnapshotDoc {
  _id: string;
  /** Every log record at or below this offset is reflected in the stored tickets. */
  offset: number;
  epoch: number;
  at: number;
}

export interface TakeOverReport {
  snapshotOffset: number;
  replayed: number;
  fenced: number;
  epochOffset: number;
  ms: number;
  // Milliseconds per step, in order: where a slow take-over spends its time (ms is their sum).
  /**
   * The snapshot's offset, the live tickets and the recently resolved ids (the two side by side; each read's
   * own time below). Near 0 when they were prepared while the old holder's lease ran out (`prepared` 1).
   */
  storeReadsMs: number;
  prepared: number;
  snapshotMs: number;
  liveTicketsMs: number;
  recentlyResolvedMs: number;
  logReadMs: number;
  epochAppendMs: number;
  agentsMs: number;
  /** Starting the first snapshot, which is written behind (ADR 0020): about 0. */
  firstFlushMs: number;
  /** Records the replay took from the standby's tail of the log (-1: it read the log itself). */
  fromFollower: number;
}

/** How long a take-over waits for its tail of the log to reach the end before reading the log itself. */
const FOLLOW_CATCH_UP_MS = 3_000;

/** A take-over uses store reads prepared this recently (older ones mean a longer replay; read again). */
const PREPARED_FRESH_MS = 20_000;

/** The store reads a take-over starts from, made while the holder's lease runs out (`prepare`) or then. */
interface StoreBase {
  snapshot: SnapshotDoc | null;
  live: TicketDoc[];
  resolved: Array<{ _id: string; resolvedAt: number }>;
  snapshotMs: number;
  liveTicketsMs: number;
  recentlyResolvedMs: number;
}

export interface LoggedStateDeps {
  store: RoutingStore;
  log: KafkaLog;
  logger: Logger;
  /** How often the snapshot is written behind (ms). */
  snapshotMs: number;
  /** True while this instance may act as the leader (the lease, with its safety margin). */
  isLeader: () => boolean;
  /**
   * Follow the log while not leading, holding this many milliseconds of records for a take-over's replay
   * (0 or absent: a take-over reads the log itself). The snapshot is normally younger than a second.
   */
  followHoldMs?: number;
  onFlush?: (tickets: number, agents: number, ms: number) => void;
}

interface AgentMemory {
  doc: AgentDoc;
  holds: Map<string, Hold>;
}

const SNAPSHOT_ID = "log";
const BULK = 50;

/**
 * A ticket intake accepted less than this long ago that is not in memory is new, unless it is among the
 * tickets resolved within this horizon (kept by id: those resolved before the take-over are loaded then,
 * those evicted since are noted). Its creation cannot be older than its acceptance, so if it existed it
 * would be in one of the two. Older tickets (a triage backlog) are looked up in the store as before.
 */
export const NEW_TICKET_HORIZON_MS = 10 * 60_000;
/** How far intake's clock may be ahead of this leader's for the argument above to hold. */
export const CLOCK_SKEW_MS = 60_000;

export class LoggedState implements RoutingState {
  readonly #d: LoggedStateDeps;
  #active = false;
  #epoch = 0;
  #owner = "";
  /** The first failed append poisons the state: nothing after it may be acted on. */
  #failed: unknown = null;
  readonly #tickets = new Map<string, TicketDoc>();
  readonly #agents = new Map<string, AgentMemory>();
  readonly #dirtyTickets = new Set<string>();
  readonly #dirtyAgents = new Set<string>();
  /** New tickets inserted with `deferAppend` and not appended yet: in memory only, nothing acts on them. */
  readonly #deferred = new Set<string>();
  /** Tickets resolved within NEW_TICKET_HORIZON_MS and no longer in memory: id -> when (oldest first, roughly). */
  readonly #recentlyResolved = new Map<string, number>();
  /** Tickets inserted without a store read because they were provably new (for diagnostics and tests). */
  #insertedWithoutRead = 0;
  #lastOffset = -1;
  #appendTail: Promise<unknown> = Promise.resolve();
  #flushTimer: NodeJS.Timeout | null = null;
  #follower: LogFollower | null = null;
  #prepared: { at: number; base: Promise<StoreBase | null> } | null = null;
  #retired = false;
  #flushing: Promise<void> | null = null;
  /**
   * A take-over writes the snapshot's document even with nothing changed, so the store names the new epoch
   * and an offset at or after its marker: a follower's tail then reaches back to it (ADR 0020).
   */
  #snapshotDue = false;
  /** A write queued behind the one in flight, for the changes made since it began (shared by every caller meanwhile). */
  #flushQueued: Promise<void> | null = null;
  /**
   * Off the leader: the newest record of each ticket the log changed after `#tailFrom - 1` (the snapshot's
   * offset when the tail was last brought up to date), as the standby's tail of the log received them.
   */
  readonly #tail = new Map<string, { doc: TicketDoc; offset: number }>();
  /** The tail holds every record in [#tailFrom, #tailNext); -1: it holds nothing. */
  #tailFrom = -1;
  #tailNext = -1;
  /** The newest epoch among the snapshot and the markers applied to the tail: older records are a deposed leader's. */
  #tailEpoch = 0;

  constructor(deps: LoggedStateDeps) {
    this.#d = deps;
  }

  get active(): boolean {
    return this.#active;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Log offset of the last acknowledged append. */
  get lastOffset(): number {
    return this.#lastOffset;
  }

  get snapshots(): RoutingStore["snapshots"] {
    return this.#d.store.snapshots;
  }

  // ---- take-over and hand-back -----------------------------------------------------------------------------

  /** Loads the snapshot, replays the log after it, fences older epochs with a marker, and starts acting. */
  async takeOver(epoch: number, owner: string): Promise<TakeOverReport> {
    const started = Date.now();
    this.#reset();
    this.#epoch = epoch;
    this.#owner = owner;
    const { store } = this.#d;
    let mark = started;
    const lap = () => {
      const now = Date.now();
      const ms = now - mark;
      mark = now;
      return ms;
    };
    // Prepared while the old holder's lease ran out, when recent enough; else read now.
    const pending = this.#prepared !== null && Date.now() - this.#prepared.at < PREPARED_FRESH_MS ? this.#prepared.base : null;
    this.#prepared = null;
    const prepared = pending === null ? null : await pending;
    const base = prepared ?? (await this.#readBase());
    const { snapshot, live, resolved, snapshotMs, liveTicketsMs, recentlyResolvedMs } = base;
    const snapshotOffset = snapshot?.offset ?? -1;
    for (const doc of live) this.#tickets.set(doc._id, doc);
    for (const r of resolved) this.#recentlyResolved.set(r._id, r.resolvedAt);
    const storeReadsMs = lap();
    let newestEpoch = snapshot?.epoch ?? 0;
    let replayed = 0;
    let fenced = 0;
    const seen = await this.#readAfter(snapshotOffset, async ({ value }) => {
      const entry = JSON.parse(value.toString("utf8")) as LogEntry;
      if (entry.type === "epoch") {
        newestEpoch = Math.max(newestEpoch, entry.epoch);
        return;
      }
      if (entry.epoch < newestEpoch) {
        fenced++; // written by a leader after its successor's marker: never acted on by anyone who counts
        return;
      }
      // No store read for a ticket not loaded: the log holds every version after the snapshot's offset, in
      // order, and the store none the log lacks, so the last record replayed is the newest copy there is.
      const known = this.#tickets.get(entry.doc._id);
      if (known === undefined || known.version <= entry.doc.version) {
        this.#tickets.set(entry.doc._id, entry.doc);
        this.#dirtyTickets.add(entry.doc._id);
        replayed++;
      }
    });
    const logReadMs = lap();
    if (seen.first > snapshotOffset + 1) {
      this.#d.logger.error(
        { snapshotOffset, firstInLog: seen.first },
        "the routing log no longer holds every record after the snapshot (retention): changes in between may be missing",
      );
    }
    if (epoch < newestEpoch) throw new NotLeaderError(`epoch ${epoch} is older than the log's ${newestEpoch}`);
    const [epochOffset] = await this.#d.log.append([this.#record({ v: 1, epoch, type: "epoch", leader: owner, at: Date.now() }, `epoch-${epoch}`)]);
    this.#lastOffset = epochOffset ?? this.#lastOffset;
    const epochAppendMs = lap();
    for (const agent of await store.allAgents()) this.#agents.set(agent._id, { doc: agent, holds: new Map() });
    const agentsMs = lap();
    this.#deriveHolds();
    this.#active = true;
    this.#flushTimer = setInterval(() => this.#flushBehind(), this.#d.snapshotMs);
    this.#flushTimer.unref();
    // The first snapshot goes out behind, like every later one: nothing needs it before deciding, since the
    // previous snapshot and the log after it describe everything until it lands (ADR 0020). Awaiting it held
    // the first decision 0.7 s in the fault campaign, with 5 s of replayed tickets to write.
    this.#snapshotDue = true;
    this.#flushBehind();
    const firstFlushMs = lap();
    this.#stopFollowing(); // the leader appends the log; it need not read it
    return {
      snapshotOffset,
      replayed,
      fenced,
      epochOffset: this.#lastOffset,
      ms: mark - started,
      storeReadsMs,
      prepared: prepared === null ? 0 : 1,
      snapshotMs,
      liveTicketsMs,
      recentlyResolvedMs,
      logReadMs,
      epochAppendMs,
      agentsMs,
      firstFlushMs,
      fromFollower: seen.fromFollower,
    };
  }

  /**
   * The store reads a take-over starts from, made ahead while the holder's lease runs out (the lease's
   * `holderLate`): on FerretDB they scan the whole tickets collection, 4 s with 3,000 tickets stored. Reading
   * early is safe: the snapshot's offset is read first, so the tickets read after it reflect at least that
   * offset, and the take-over replays the log from there whatever happened since. At most one in flight,
   * and none again while one younger than PREPARED_FRESH_MS is held.
   */
  prepare(): void {
    if (this.#retired || this.#active) return;
    if (this.#prepared !== null && Date.now() - this.#prepared.at < PREPARED_FRESH_MS) return;
    const base = this.#readBase().catch((err: unknown) => {
      this.#d.logger.warn({ err }, "preparing a take-over's store reads failed; the take-over reads them itself");
      return null;
    });
    this.#prepared = { at: Date.now(), base };
  }

  /** The snapshot's offset first, then the live tickets and the recently resolved ids side by side. */
  async #readBase(): Promise<StoreBase> {
    const { store } = this.#d;
    const timed = async <T>(read: () => Promise<T>): Promise<[T, number]> => {
      const t0 = Date.now();
      const value = await read();
      return [value, Date.now() - t0];
    };
    const [snapshot, snapshotMs] = await timed(() => store.snapshots.findOne({ _id: SNAPSHOT_ID }));
    // After the snapshot's offset, never before: what they return then reflects at least that offset. Side by
    // side: on FerretDB each scans the whole collection (4.5 and 3.8 s in a row with 3,000 tickets stored).
    const [[live, liveTicketsMs], [resolved, recentlyResolvedMs]] = await Promise.all([
      timed(() => store.liveTickets()),
      timed(() => store.resolvedSince(Date.now() - NEW_TICKET_HORIZON_MS)),
    ]);
    return { snapshot, live, resolved, snapshotMs, liveTicketsMs, recentlyResolvedMs };
  }

  /** Follows the log while standing by (see `followHoldMs`); idempotent, and a no-op while leading. */
  follow(): void {
    if (this.#retired || this.#active || this.#follower !== null || !(this.#d.followHoldMs && this.#d.followHoldMs > 0)) return;
    this.#follower = this.#d.log.follow({ holdMs: this.#d.followHoldMs });
  }

  /** The standby's tail of the log, while it follows: what it holds ([coveredFrom, position)). */
  following(): { coveredFrom: number; position: number } | null {
    const f = this.#follower;
    return f === null ? null : { coveredFrom: f.coveredFrom, position: f.position };
  }

  /** Shutting down: never follow again. */
  retire(): void {
    this.#retired = true;
  }

  /** Stops following (leading now, or shutting down). */
  async stopFollowing(): Promise<void> {
    const f = this.#follower;
    this.#follower = null;
    await f?.close();
  }

  #stopFollowing(): void {
    void this.stopFollowing().catch((err: unknown) => this.#d.logger.warn({ err }, "stopping the log follower failed"));
  }

  /** Every record after `offset` up to the log's end: from the standby's tail when it holds them, else read. */
  async #readAfter(offset: number, onRecord: (record: ReadRecord) => Promise<void>): Promise<{ first: number; end: number; fromFollower: number }> {
    const f = this.#follower;
    if (f !== null) {
      const { first, end } = await this.#d.log.offsets();
      if (await f.caughtUp(end, FOLLOW_CATCH_UP_MS)) {
        const held = f.recordsFrom(offset + 1);
        if (held !== undefined) {
          let n = 0;
          for (const r of held) {
            if (r.offset >= end) break;
            await onRecord(r);
            n++;
          }
          return { first, end, fromFollower: n };
        }
      }
      this.#d.logger.warn(
        { offset, coveredFrom: f.coveredFrom, position: f.position, end },
        "the standby's tail of the routing log does not reach back to the snapshot: reading the log",
      );
    }
    const read = await this.#d.log.read(offset + 1, onRecord);
    return { first: read.first, end: read.end, fromFollower: -1 };
  }

  /** Stops acting (lease lost or shutdown): what is logged is kept; the last snapshot is written if still allowed. */
  async handBack(): Promise<void> {
    if (!this.#active) return;
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    this.#flushTimer = null;
    await this.#appendTail.catch(() => undefined);
    if (this.#failed === null && this.#d.isLeader()) await this.flush().catch((err: unknown) => this.#d.logger.warn({ err }, "last routing snapshot not written"));
    this.#active = false;
    this.#reset();
    this.follow(); // standing by again
  }

  /**
   * Resolved and left memory within the horizon, and not read back since: every later change would have gone
   * through this leader's memory (or been replayed into it at the take-over), so the stored copy is resolved.
   */
  knownResolved(ticketId: string): boolean {
    return this.#active && !this.#tickets.has(ticketId) && this.#recentlyResolved.has(ticketId);
  }

  /** Not in memory, not resolved recently, and accepted by intake within the horizon (see NEW_TICKET_HORIZON_MS). */
  #provablyNew(ticketId: string, receivedAt: number | null): boolean {
    if (receivedAt === null || !this.#active) return false;
    if (this.#tickets.has(ticketId) || this.#recentlyResolved.has(ticketId)) return false;
    return receivedAt >= Date.now() - NEW_TICKET_HORIZON_MS + CLOCK_SKEW_MS;
  }

  #reset(): void {
    this.#active = false;
    this.#failed = null;
    this.#snapshotDue = false;
    this.#tickets.clear();
    this.#recentlyResolved.clear();
    this.#insertedWithoutRead = 0;
    this.#agents.clear();
    this.#dirtyTickets.clear();
    this.#dirtyAgents.clear();
    this.#deferred.clear();
    this.#lastOffset = -1;
    this.#appendTail = Promise.resolve();
    this.#tail.clear();
    this.#tailFrom = -1;
  }

  /** Every agent's holds are what the tickets say: a pending offer, or owned work in their load. */
  #deriveHolds(): void {
    for (const a of this.#agents.values()) a.holds.clear();
    for (const doc of this.#tickets.values()) {
      if (doc.status === "resolved") continue;
      for (const o of doc.pendingOffers) this.#agents.get(o.agentId)?.holds.set(doc._id, holdOf(doc, o.agentId) as Hold);
      if (doc.status === "owned" && doc.ownerId !== null && !doc.heldForOwner) this.#agents.get(doc.ownerId)?.holds.set(doc._id, holdOf(doc, doc.ownerId) as Hold);
    }
    for (const id of this.#agents.keys()) this.#dirtyAgents.add(id);
  }

  // ---- the log -----------------------------------------------------------------------------------------------

  #record(entry: LogEntry, key: string) {
    return { key, value: Buffer.from(JSON.stringify(entry)), headers: { "content-type": "application/json", "steward-schema": LOG_SCHEMA } };
  }

  #mustLead(): void {
    if (this.#failed !== null) throw new NotLeaderError("an append to the routing log failed; this leader steps down");
    if (!this.#active || !this.#d.isLeader()) throw new NotLeaderError("this routing instance is not the leader");
  }

  /** Appends the ticket as it now is; resolves once every in-sync replica has it. */
  async #append(doc: TicketDoc): Promise<void> {
    const appended = this.#d.log.append([this.#record({ v: 1, epoch: this.#epoch, type: "ticket", doc }, doc._id)]);
    this.#appendTail = appended.catch(() => undefined);
    try {
      const [offset] = await appended;
      if (offset !== undefined && offset > this.#lastOffset) this.#lastOffset = offset;
    } catch (err) {
      this.#failed ??= err;
      this.#d.logger.error({ err, ticketId: doc._id }, "routing log append failed: stepping down");
      throw new NotLeaderError(`the routing log did not take the change of ticket ${doc._id}`);
    }
  }

  // ---- tickets -------------------------------------------------------------------------------------------------

  async getTicket(ticketId: string): Promise<TicketDoc | null> {
    if (!this.#active) return this.#followerTicket(ticketId);
    const known = this.#tickets.get(ticketId);
    if (known !== undefined) return known;
    // Resolved long ago (not loaded at take-over): the snapshot's copy is the newest there is.
    const stored = await this.#d.store.getTicket(ticketId);
    if (stored !== null && !this.#tickets.has(ticketId)) {
      this.#tickets.set(ticketId, stored);
      this.#recentlyResolved.delete(ticketId); // in memory again (a reopen may follow): memory decides
    }
    return this.#tickets.get(ticketId) ?? null;
  }

  async insertTicket(doc: TicketDoc, known?: { receivedAt: number | null; deferAppend?: boolean }): Promise<boolean> {
    this.#mustLead();
    if (this.#provablyNew(doc._id, known?.receivedAt ?? null)) this.#insertedWithoutRead++;
    else if ((await this.getTicket(doc._id)) !== null) return false;
    this.#mustLead();
    if (this.#tickets.has(doc._id)) return false;
    this.#tickets.set(doc._id, doc);
    if (known?.deferAppend === true) {
      // The matcher offers a new ticket in the same step: one append then holds both changes (the record is
      // the whole ticket), or appendDeferred writes it at the end of the step.
      this.#deferred.add(doc._id);
      return true;
    }
    this.#dirtyTickets.add(doc._id);
    await this.#append(doc);
    return true;
  }

  isDeferred(ticketId: string): boolean {
    return this.#deferred.has(ticketId);
  }

  async appendDeferred(): Promise<TicketDoc[]> {
    if (this.#deferred.size === 0) return [];
    this.#mustLead();
    const docs = [...this.#deferred].map((id) => this.#tickets.get(id)).filter((d): d is TicketDoc => d !== undefined);
    this.#deferred.clear();
    for (const doc of docs) {
      this.#dirtyTickets.add(doc._id);
      await this.#append(doc);
    }
    return docs;
  }

  async casTicket(next: TicketDoc, expectedVersion: number, guards: Record<string, unknown>): Promise<boolean> {
    this.#mustLead();
    const current = this.#tickets.get(next._id) ?? (await this.getTicket(next._id));
    this.#mustLead();
    // Checked and replaced in one synchronous step: concurrent commands on one ticket cannot both win.
    const now = this.#tickets.get(next._id) ?? current;
    if (now === null || now.version !== expectedVersion || !matchesGuards(now, guards)) return false;
    this.#tickets.set(next._id, next);
    this.#deferred.delete(next._id); // the whole ticket goes into this record
    this.#dirtyTickets.add(next._id);
    await this.#append(next);
    return true;
  }

  async dropPublished(published: ReadonlyArray<{ ticketId: string; version: number; keep: readonly OutboxEntry[] }>): Promise<void> {
    if (!this.#active) return; // a deposed leader's bookkeeping: the next one republishes what it finds
    for (const { ticketId, version, keep } of published) {
      const doc = this.#tickets.get(ticketId);
      if (doc === undefined || doc.version !== version || this.#deferred.has(ticketId)) continue;
      this.#tickets.set(ticketId, { ...doc, outbox: [...keep] });
      this.#dirtyTickets.add(ticketId);
    }
  }

  async liveTickets(): Promise<TicketDoc[]> {
    if (!this.#active) return this.#d.store.liveTickets();
    return [...this.#tickets.values()].filter((t) => t.status !== "resolved" || t.outbox.length > 0);
  }

  async staleOutboxes(before: number): Promise<TicketDoc[]> {
    if (!this.#active) return this.#d.store.staleOutboxes(before);
    return [...this.#tickets.values()].filter((t) => t.outbox.length > 0 && t.outboxAt < before);
  }

  getOffer(offerId: string): Promise<OfferDoc | null> {
    return this.#d.store.getOffer(offerId);
  }

  // ---- agents and capacity -----------------------------------------------------------------------------------

  /** The stored profile and presence, with the leader's holds, free capacity and idle clock. */
  async getAgent(agentId: string): Promise<AgentDoc | null> {
    if (!this.#active) return this.#followerAgent(agentId);
    const stored = await this.#d.store.getAgent(agentId);
    if (stored === null) return null;
    const known = this.#agents.get(agentId);
    const memory: AgentMemory = known ?? { doc: stored, holds: new Map() };
    memory.doc = { ...stored, idleSince: Math.max(stored.idleSince, known?.doc.idleSince ?? 0) };
    this.#agents.set(agentId, memory);
    return this.#view(memory);
  }

  async allAgents(): Promise<AgentDoc[]> {
    if (!this.#active) return this.#d.store.allAgents();
    const stored = await this.#d.store.allAgents();
    for (const doc of stored) {
      const known = this.#agents.get(doc._id);
      this.#agents.set(doc._id, { doc: { ...doc, idleSince: Math.max(doc.idleSince, known?.doc.idleSince ?? 0) }, holds: known?.holds ?? new Map() });
    }
    return stored.map((d) => this.#view(this.#agents.get(d._id) as AgentMemory));
  }

  #view(m: AgentMemory): AgentDoc {
    const holds: Record<string, Hold> = {};
    for (const h of m.holds.values()) holds[holdKey(h.ticketId)] = h;
    return { ...m.doc, holds, free: freeOf(m.doc.capacity, m.holds) };
  }

  async acquireHold(agentId: string, hold: Hold, requireAvailable: boolean): Promise<boolean> {
    this.#mustLead();
    const m = this.#agents.get(agentId) ?? (await this.getAgent(agentId), this.#agents.get(agentId));
    if (m === undefined) return false;
    if (requireAvailable && m.doc.presence !== "available") return false;
    if (m.holds.has(hold.ticketId)) return false;
    if ((freeOf(m.doc.capacity, m.holds)[hold.channel] ?? 0) <= 0) return false;
    m.holds.set(hold.ticketId, hold);
    this.#dirtyAgents.add(agentId);
    return true;
  }

  async releaseHold(agentId: string, ticketId: string, channel: Channel, onlyIfAt?: number, busySince?: number): Promise<boolean> {
    this.#mustLead();
    const m = this.#agents.get(agentId);
    const hold = m?.holds.get(ticketId);
    if (m === undefined || hold === undefined || hold.channel !== channel || (onlyIfAt !== undefined && hold.at !== onlyIfAt)) return false;
    m.holds.delete(ticketId);
    if (busySince !== undefined) m.doc = { ...m.doc, idleSince: Math.max(m.doc.idleSince, busySince) };
    this.#dirtyAgents.add(agentId);
    return true;
  }

  // ---- hints (rare: escalation input before triage) stay in the store ------------------------------------------

  getHint(ticketId: string): Promise<TicketHintDoc | null> {
    return this.#d.store.getHint(ticketId);
  }

  putHint(doc: TicketHintDoc): Promise<void> {
    return this.#d.store.putHint(doc);
  }

  deleteHint(ticketId: string): Promise<void> {
    return this.#d.store.deleteHint(ticketId);
  }

  allHints(): Promise<TicketHintDoc[]> {
    return this.#d.store.allHints();
  }

  // ---- reads off the leader: the store's snapshot, brought up to date from the standby's tail of the log -----

  /** The stored ticket, or the newer copy the log holds after the snapshot. */
  async #followerTicket(ticketId: string): Promise<TicketDoc | null> {
    // The snapshot's offset before the ticket: the stored copy then reflects at least every record up to it.
    const tail = await this.#caughtUpTail();
    const stored = await this.#d.store.getTicket(ticketId);
    const followed = tail?.get(ticketId);
    // A copy written after the offset was read may be newer than what the tail has received yet.
    return followed !== undefined && (stored === null || followed.doc.version >= stored.version) ? followed.doc : stored;
  }

  /**
   * The stored agent, with the holds of the tickets the log changed after the snapshot derived from those
   * tickets (as a take-over derives them), and its free capacity counted from them.
   */
  async #followerAgent(agentId: string): Promise<AgentDoc | null> {
    const tail = await this.#caughtUpTail();
    const stored = await this.#d.store.getAgent(agentId);
    if (stored === null || tail === null || tail.size === 0) return stored;
    const holds = new Map(Object.values(stored.holds ?? {}).map((h) => [h.ticketId, h]));
    for (const { doc } of tail.values()) {
      holds.delete(doc._id);
      const hold = holdOf(doc, agentId);
      if (hold !== null) holds.set(doc._id, hold);
    }
    return this.#view({ doc: stored, holds });
  }

  /**
   * Reads the snapshot's offset and brings the tail up to the standby's position: the records after that
   * offset, newest per ticket, a deposed leader's skipped. Null when the tail does not reach back to the
   * offset (not following, just started, a gap, or a snapshot older than what the tail holds).
   */
  async #caughtUpTail(): Promise<ReadonlyMap<string, { doc: TicketDoc; offset: number }> | null> {
    const f = this.#follower;
    if (f === null) return null;
    const snapshot = await this.#d.store.snapshots.findOne({ _id: SNAPSHOT_ID });
    const from = (snapshot?.offset ?? -1) + 1;
    // Carry on from where the last read left off, while that still joins up with the snapshot and the
    // follower still holds what comes after it; else start again from the snapshot's offset.
    let records = this.#tailFrom >= 0 && this.#tailFrom <= from && this.#tailNext >= from ? f.recordsFrom(this.#tailNext) : undefined;
    if (records === undefined) {
      this.#tail.clear();
      this.#tailFrom = from;
      this.#tailNext = from;
      this.#tailEpoch = snapshot?.epoch ?? 0;
      records = f.recordsFrom(from);
    }
    if (records === undefined) {
      this.#tailFrom = -1;
      return null;
    }
    for (const r of records) {
      const entry = JSON.parse(r.value.toString("utf8")) as LogEntry;
      if (entry.type === "epoch") this.#tailEpoch = Math.max(this.#tailEpoch, entry.epoch);
      else if (entry.epoch >= this.#tailEpoch) this.#tail.set(entry.doc._id, { doc: entry.doc, offset: r.offset });
      this.#tailNext = r.offset + 1;
    }
    this.#tailNext = Math.max(this.#tailNext, f.position);
    // What the snapshot reflects is the store's to answer.
    for (const [id, v] of this.#tail) if (v.offset < from) this.#tail.delete(id);
    this.#tailFrom = from;
    return this.#tail;
  }

  // ---- the snapshot, written behind ----------------------------------------------------------------------------

  /** Writes every changed ticket and agent in bulk, then the log offset they reflect. */
  flush(): Promise<void> {
    // Resolves once every change made before the call is in the store: a write already in flight may have
    // started before it, so the caller waits for one more after it.
    if (this.#flushing === null) {
      this.#flushing = this.#flushOnce().finally(() => {
        this.#flushing = null;
      });
      return this.#flushing;
    }
    this.#flushQueued ??= this.#flushing
      .catch(() => undefined)
      .then(() => {
        this.#flushQueued = null;
        return this.flush();
      });
    return this.#flushQueued;
  }

  /** A snapshot nobody waits for: a failure is logged, and the next interval writes what is still dirty. */
  #flushBehind(): void {
    void this.flush().catch((err: unknown) => this.#d.logger.warn({ err }, "routing snapshot write failed; retried"));
  }

  async #flushOnce(): Promise<void> {
    if (!this.#active || this.#failed !== null || !this.#d.isLeader()) return;
    if (this.#dirtyTickets.size === 0 && this.#dirtyAgents.size === 0 && !this.#snapshotDue) return;
    const started = Date.now();
    // Only changes the log already holds go to the store.
    let tail: Promise<unknown>;
    do {
      tail = this.#appendTail;
      await tail;
    } while (tail !== this.#appendTail);
    const upTo = this.#lastOffset;
    // A ticket held back from the log (deferAppend) is not the record yet: it waits for its append.
    const ticketIds = [...this.#dirtyTickets].filter((id) => !this.#deferred.has(id));
    const agentIds = [...this.#dirtyAgents];
    for (const id of ticketIds) this.#dirtyTickets.delete(id);
    this.#dirtyAgents.clear();
    try {
      const docs = ticketIds.map((id) => this.#tickets.get(id)).filter((d): d is TicketDoc => d !== undefined);
      // At most BULK statements per command: FerretDB 1.24 never answers an update of 100 or more.
      for (let i = 0; i < docs.length; i += BULK) {
        await this.#d.store.tickets.bulkWrite(
          docs.slice(i, i + BULK).map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
          { ordered: false },
        );
      }
      const agents = agentIds.map((id) => this.#agents.get(id)).filter((a): a is AgentMemory => a !== undefined);
      for (let i = 0; i < agents.length; i += BULK) {
        await this.#d.store.agents.bulkWrite(
          agents.slice(i, i + BULK).map((a) => {
            const view = this.#view(a);
            return { updateOne: { filter: { _id: a.doc._id }, update: { $set: { holds: view.holds, free: view.free }, $max: { idleSince: a.doc.idleSince } } } };
          }),
          { ordered: false },
        );
      }
      if (!this.#d.isLeader()) return; // deposed meanwhile: the successor's snapshot decides from here
      await this.#d.store.snapshots.replaceOne({ _id: SNAPSHOT_ID }, { offset: upTo, epoch: this.#epoch, at: Date.now() }, { upsert: true });
      this.#snapshotDue = false;
      this.#d.onFlush?.(docs.length, agents.length, Date.now() - started);
    } catch (err) {
      for (const id of ticketIds) this.#dirtyTickets.add(id);
      for (const id of agentIds) this.#dirtyAgents.add(id);
      throw err;
    }
    // Resolved tickets leave memory once stored (a reopen reads them back).
    for (const id of ticketIds) {
      const doc = this.#tickets.get(id);
      if (doc !== undefined && doc.status === "resolved" && doc.outbox.length === 0 && !this.#dirtyTickets.has(id)) {
        this.#tickets.delete(id);
        this.#recentlyResolved.set(id, Date.now());
      }
    }
    // Entries go in roughly in time order: drop from the front until a recent one (a few stay a little longer).
    const cutoff = Date.now() - NEW_TICKET_HORIZON_MS;
    for (const [id, at] of this.#recentlyResolved) {
      if (at >= cutoff) break;
      this.#recentlyResolved.delete(id);
    }
  }

  stats(): {
    active: boolean;
    epoch: number;
    tickets: number;
    agents: number;
    dirtyTickets: number;
    lastOffset: number;
    recentlyResolved: number;
    insertedWithoutRead: number;
    /** Off the leader: tickets whose newest copy is in the tail of the log after the snapshot, not yet in the store. */
    followedTickets: number;
  } {
    return {
      followedTickets: this.#tail.size,
      active: this.#active,
      epoch: this.#epoch,
      tickets: this.#tickets.size,
      agents: this.#agents.size,
      dirtyTickets: this.#dirtyTickets.size,
      lastOffset: this.#lastOffset,
      recentlyResolved: this.#recentlyResolved.size,
      insertedWithoutRead: this.#insertedWithoutRead,
    };
  }

  get owner(): string {
    return this.#owner;
  }
}

/** The hold a ticket puts on an agent: a pending offer to them, or owned work in their load; null for none. */
export function holdOf(doc: TicketDoc, agentId: string): Hold | null {
  if (doc.status === "resolved") return null;
  if (doc.status === "owned" && doc.ownerId === agentId && !doc.heldForOwner) return { ticketId: doc._id, channel: doc.channel, kind: "owned", at: doc.updatedAt };
  const offer = doc.pendingOffers.find((o) => o.agentId === agentId);
  return offer === undefined ? null : { ticketId: doc._id, channel: doc.channel, kind: "offer", at: offer.offeredAt };
}

function freeOf(capacity: ChannelCounts, holds: ReadonlyMap<string, Hold>): ChannelCounts {
  const free: ChannelCounts = {};
  for (const [channel, n] of Object.entries(capacity) as Array<[Channel, number]>) free[channel] = n;
  for (const h of holds.values()) free[h.channel] = (free[h.channel] ?? 0) - 1;
  return free;
}

/** The store's guard semantics for the equality guards the ledger uses (null also matches a missing field). */
export function matchesGuards(doc: TicketDoc, guards: Record<string, unknown>): boolean {
  for (const [path, expected] of Object.entries(guards)) {
    let value: unknown = doc;
    for (const part of path.split(".")) value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[part];
    if (expected === null ? value !== null && value !== undefined : value !== expected) return false;
  }
  return true;
}
