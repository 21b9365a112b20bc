// Load and invariant checks for the multi-instance tests: a crowd of simulated agents that answer offers
// through any live gateway (accept, decline, ignore, accept twice at once), and the checks that the store
// and the event history kept routing's promises whatever instance decided.
import type { Envelope } from "@steward/proto";
import { channelFromProto } from "@steward/proto";
import type { Db } from "@steward/store";
import { bearer, tokens } from "@steward/testkit";
import type { RoutingEventLog } from "./routing-test-support.ts";
import type { AgentDoc, TicketDoc } from "../src/routing-store.ts";

export interface CrowdOptions {
  log: RoutingEventLog;
  /** Base URLs of the gateways alive right now. */
  gateways: () => string[];
  declineRate: number;
  /** Offers left unanswered, to expire. */
  ignoreRate: number;
  /** Accepts sent through two gateways at once (the same agent, a retried click). */
  doubleAcceptRate: number;
  resolveAfterMs: [number, number];
  seed: number;
}

export interface CrowdStats {
  offersSeen: number;
  accepted: number;
  declined: number;
  ignored: number;
  resolved: number;
  refusedAccepts: number;
  httpRetries: number;
  /** ticketId -> agents whose accept of this ticket answered 200. */
  winners: Map<string, Set<string>>;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class AgentCrowd {
  readonly stats: CrowdStats = { offersSeen: 0, accepted: 0, declined: 0, ignored: 0, resolved: 0, refusedAccepts: 0, httpRetries: 0, winners: new Map() };
  readonly #o: CrowdOptions;
  readonly #random: () => number;
  readonly #handled = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  #cursor = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: CrowdOptions) {
    this.#o = options;
    this.#random = rng(options.seed);
  }

  start(): void {
    this.#timer = setInterval(() => this.#poll(), 20);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await Promise.allSettled([...this.#inFlight]);
  }

  #poll(): void {
    const events = this.#o.log.events;
    for (; this.#cursor < events.length; this.#cursor++) {
      const e = events[this.#cursor] as Envelope;
      if (e.payload?.$case !== "offerMade" || this.#handled.has(e.eventId)) continue;
      this.#handled.add(e.eventId);
      this.stats.offersSeen++;
      const offer = e.payload.value;
      const work = this.#answer(e.ticketId, offer.offerId, offer.agentId).catch(() => undefined);
      this.#inFlight.add(work);
      void work.finally(() => this.#inFlight.delete(work));
    }
  }

  async #answer(ticketId: string, offerId: string, agentId: string): Promise<void> {
    await sleep(5 + this.#random() * 60);
    const roll = this.#random();
    if (roll < this.#o.ignoreRate) {
      this.stats.ignored++;
      return;
    }
    if (roll < this.#o.ignoreRate + this.#o.declineRate) {
      const res = await this.#call("POST", `/v1/offers/${encodeURIComponent(offerId)}/decline`, agentId, { reason: "busy" });
      if (res === 200) this.stats.declined++;
      return;
    }
    const twice = this.#random() < this.#o.doubleAcceptRate;
    const attempts = await Promise.all(Array.from({ length: twice ? 2 : 1 }, () => this.#call("POST", `/v1/offers/${encodeURIComponent(offerId)}/accept`, agentId, {})));
    if (!attempts.includes(200)) {
      this.stats.refusedAccepts++;
      return;
    }
    this.stats.accepted++;
    const winners = this.stats.winners.get(ticketId) ?? new Set<string>();
    winners.add(agentId);
    this.stats.winners.set(ticketId, winners);
    const [min, max] = this.#o.resolveAfterMs;
    await sleep(min + this.#random() * (max - min));
    for (let i = 0; i < 20; i++) {
      const status = await this.#call("POST", `/v1/tickets/${encodeURIComponent(ticketId)}/resolve`, agentId, {});
      if (status === 200) {
        this.stats.resolved++;
        return;
      }
      await sleep(200);
    }
  }

  /** Calls a random live gateway; a refused connection (a killed instance) tries another. Returns the status. */
  async #call(method: string, path: string, agentId: string, body: unknown): Promise<number> {
    const auth = await bearer(tokens.agent(agentId));
    for (let attempt = 0; attempt < 20; attempt++) {
      const gateways = this.#o.gateways();
      const base = gateways[Math.floor(this.#random() * gateways.length)];
      if (base === undefined) {
        await sleep(100);
        continue;
      }
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { "content-type": "application/json", ...auth },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        await res.text();
        if (res.status >= 500) {
          this.stats.httpRetries++;
          await sleep(100);
          continue;
        }
        return res.status;
      } catch {
        this.stats.httpRetries++;
        await sleep(100);
      }
    }
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface InvariantReport {
  tickets: number;
  notOffered: string[];
  assignedTwice: string[];
  /** agent/channel where offers + owned work exceeded capacity at some point of the event history. */
  overCapacity: Array<{ agentId: string; channel: string; peak: number; capacity: number }>;
  /** Capacity still held at the end, when every ticket is resolved (should be none). */
  leftover: Array<{ agentId: string; channel: string; count: number }>;
  storeProblems: string[];
  peakLoad: number;
}

/**
 * Replays the distinct routing events per agent in time order: an offer takes a slot, its end (declined,
 * expired, withdrawn) returns it, an assignment keeps it as owned work, a resolution returns it. Events
 * that take a slot are stamped after the store granted it and events that return one before it is
 * returned, so time order never shows an overlap that did not happen; at equal times, returns go first.
 */
export function checkInvariants(events: readonly Envelope[], tickets: readonly TicketDoc[], agents: readonly AgentDoc[], expectedTicketIds: readonly string[]): InvariantReport {
  const seen = new Set<string>();
  const distinct = events.filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
  const capacity = new Map(agents.map((a) => [a._id, a.capacity as Record<string, number>]));
  const offers = new Map<string, { agentId: string; channel: string }>();
  const owner = new Map<string, { agentId: string; channel: string }>();
  const assigned = new Map<string, number>();
  const offered = new Set<string>();
  type Step = { at: number; delta: number; agentId: string; channel: string };
  const steps: Step[] = [];
  for (const e of distinct) {
    const at = e.occurredAt?.getTime() ?? 0;
    const p = e.payload;
    if (p?.$case === "offerMade") {
      const channel = channelFromProto(p.value.channel) ?? "api";
      offers.set(p.value.offerId, { agentId: p.value.agentId, channel });
      offered.add(e.ticketId);
      steps.push({ at, delta: 1, agentId: p.value.agentId, channel });
    } else if (p?.$case === "offerClosed") {
      const offer = offers.get(p.value.offerId);
      if (offer) steps.push({ at, delta: -1, agentId: offer.agentId, channel: offer.channel });
    } else if (p?.$case === "ticketAssigned") {
      assigned.set(e.ticketId, (assigned.get(e.ticketId) ?? 0) + 1);
      owner.set(e.ticketId, { agentId: p.value.agentId, channel: channelFromProto(p.value.channel) ?? "api" });
    } else if (p?.$case === "ticketResolved") {
      const o = owner.get(e.ticketId);
      if (o) steps.push({ at, delta: -1, agentId: o.agentId, channel: o.channel });
    }
  }
  steps.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const load = new Map<string, number>();
  const peaks = new Map<string, number>();
  for (const s of steps) {
    const key = `${s.agentId}\u0000${s.channel}`;
    const n = (load.get(key) ?? 0) + s.delta;
    load.set(key, n);
    peaks.set(key, Math.max(peaks.get(key) ?? 0, n));
  }
  const overCapacity: InvariantReport["overCapacity"] = [];
  let peakLoad = 0;
  for (const [key, peak] of peaks) {
    const [agentId = "", channel = ""] = key.split("\u0000");
    const cap = capacity.get(agentId)?.[channel] ?? 0;
    peakLoad = Math.max(peakLoad, peak);
    if (peak > cap) overCapacity.push({ agentId, channel, peak, capacity: cap });
  }
  const leftover = [...load]
    .filter(([, n]) => n !== 0)
    .map(([key, count]) => {
      const [agentId = "", channel = ""] = key.split("\u0000");
      return { agentId, channel, count };
    });
  const storeProblems: string[] = [];
  for (const t of tickets) {
    const accepts = t.history.filter((h) => h.type === "offer.accepted").length;
    if (accepts > 1) storeProblems.push(`${t._id}: accepted ${accepts} times in its history`);
    if (t.status === "owned" && t.ownerId === null) storeProblems.push(`${t._id}: owned without an owner`);
    if (t.status !== "owned" && t.ownerId !== null) storeProblems.push(`${t._id}: ${t.status} with owner ${t.ownerId}`);
  }
  for (const a of agents) {
    const holds = Object.values(a.holds ?? {});
    for (const [channel, cap] of Object.entries(a.capacity)) {
      const used = holds.filter((h) => h.channel === channel).length;
      if (used > (cap ?? 0)) storeProblems.push(`${a._id}: ${used} holds on ${channel}, capacity ${cap}`);
      if ((a.free[channel as keyof typeof a.free] ?? 0) !== (cap ?? 0) - used)
        storeProblems.push(`${a._id}: free.${channel} ${a.free[channel as keyof typeof a.free]} != ${cap} - ${used}`);
    }
  }
  return {
    tickets: expectedTicketIds.length,
    notOffered: expectedTicketIds.filter((id) => !offered.has(id)),
    assignedTwice: [...assigned].filter(([, n]) => n > 1).map(([id]) => id),
    overCapacity,
    leftover,
    storeProblems,
    peakLoad,
  };
}

export async function readStore(db: Db): Promise<{ tickets: TicketDoc[]; agents: AgentDoc[] }> {
  return {
    tickets: await db.collection<TicketDoc>("routing_tickets").find({}).toArray(),
    agents: await db.collection<AgentDoc>("routing_agents").find({}).toArray(),
  };
}
