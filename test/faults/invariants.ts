// What must hold after a fault, checked from the outside: from routing's event log (steward.routing.events,
// every decision routing announced) and from what the simulated agents were told. Pure functions over
// records; the campaign (run.ts) reads the topic and the agents and hands the records in.
export type RoutingRecord =
  | { eventId: string; ticketId: string; at: number; kind: "offered"; agentId: string }
  | { eventId: string; ticketId: string; at: number; kind: "assigned"; agentId: string; channel: string }
  | { eventId: string; ticketId: string; at: number; kind: "reassigned"; agentId: string }
  | { eventId: string; ticketId: string; at: number; kind: "resolved" }
  | { eventId: string; ticketId: string; at: number; kind: "reopened"; agentId: string }
  | { eventId: string; ticketId: string; at: number; kind: "waiting" };

export interface TicketFate {
  offered: boolean;
  owned: boolean;
  /** Routing said it waits (queued, or no eligible agent now), and nothing later took it further. */
  waiting: boolean;
}

export interface LogFindings {
  /** Tickets routing assigned to two different agents with no reassignment between. */
  doubleOwners: string[];
  /** Offers made for a ticket that was resolved and not reopened. */
  offersAfterResolve: string[];
  /** Highest number of open tickets one agent owned at once on one channel, by "agent/channel" (log order by time). */
  peakLoad: Map<string, number>;
  fate: Map<string, TicketFate>;
}

/** Folds routing's announced decisions. Duplicates (a republished event keeps its id) count once. */
export function foldRoutingLog(records: readonly RoutingRecord[]): LogFindings {
  const seen = new Set<string>();
  const ordered = records.filter((r) => (seen.has(r.eventId) ? false : (seen.add(r.eventId), true))).sort((a, b) => a.at - b.at);
  const owner = new Map<string, { agentId: string; channel: string }>();
  const resolved = new Set<string>();
  const doubleOwners = new Set<string>();
  const offersAfterResolve = new Set<string>();
  const load = new Map<string, number>();
  const peakLoad = new Map<string, number>();
  const fate = new Map<string, TicketFate>();
  const fateOf = (t: string): TicketFate => {
    let f = fate.get(t);
    if (!f) fate.set(t, (f = { offered: false, owned: false, waiting: false }));
    return f;
  };
  const add = (slot: string, d: number) => {
    const n = (load.get(slot) ?? 0) + d;
    load.set(slot, n);
    if (n > (peakLoad.get(slot) ?? 0)) peakLoad.set(slot, n);
  };
  for (const r of ordered) {
    const f = fateOf(r.ticketId);
    switch (r.kind) {
      case "offered":
        f.offered = true;
        f.waiting = false;
        if (resolved.has(r.ticketId)) offersAfterResolve.add(r.ticketId);
        break;
      case "assigned": {
        const current = owner.get(r.ticketId);
        if (current && current.agentId !== r.agentId && !resolved.has(r.ticketId)) doubleOwners.add(r.ticketId);
        if (!current || current.agentId !== r.agentId || resolved.has(r.ticketId)) add(`${r.agentId}/${r.channel}`, 1);
        owner.set(r.ticketId, { agentId: r.agentId, channel: r.channel });
        resolved.delete(r.ticketId);
        f.owned = true;
        f.waiting = false;
        break;
      }
      case "reassigned": {
        const current = owner.get(r.ticketId);
        if (current) {
          add(`${current.agentId}/${current.channel}`, -1);
          add(`${r.agentId}/${current.channel}`, 1);
          owner.set(r.ticketId, { agentId: r.agentId, channel: current.channel });
        }
        break;
      }
      case "resolved": {
        const current = owner.get(r.ticketId);
        if (current && !resolved.has(r.ticketId)) add(`${current.agentId}/${current.channel}`, -1);
        resolved.add(r.ticketId);
        break;
      }
      case "reopened": {
        // Back to its owner (held outside their load until a slot frees, which this fold does not count).
        const current = owner.get(r.ticketId);
        owner.set(r.ticketId, { agentId: r.agentId, channel: current?.channel ?? "?" });
        resolved.delete(r.ticketId);
        break;
      }
      case "waiting":
        if (!f.owned) f.waiting = true;
        break;
    }
  }
  return { doubleOwners: [...doubleOwners], offersAfterResolve: [...offersAfterResolve], peakLoad, fate };
}

export interface AgentView {
  /** Every accept answered 200, in any order. */
  owned: ReadonlyArray<{ ticketId: string; agentId: string }>;
  /** Peak tickets held at once per "agent/channel", as the agents counted them. */
  peakLoad: ReadonlyMap<string, number>;
}

export interface Verdict {
  accepted: number;
  owned: number;
  offeredNotOwned: number;
  waiting: number;
  /** Answered 202 and then neither offered, owned nor visibly waiting. */
  lost: string[];
  doubleOwners: string[];
  offersAfterResolve: string[];
  /** "agent/channel" slots whose peak exceeded the capacity, in the log or in the agents' own count. */
  overCapacity: string[];
}

/** Judges the tickets answered 202 against the log and the agents' view. */
export function judge(acceptedTicketIds: readonly string[], log: LogFindings, agents: AgentView, capacityPerChannel: number): Verdict {
  const ownersSeen = new Map<string, Set<string>>();
  for (const o of agents.owned) {
    const set = ownersSeen.get(o.ticketId) ?? new Set<string>();
    set.add(o.agentId);
    ownersSeen.set(o.ticketId, set);
  }
  let owned = 0;
  let offeredNotOwned = 0;
  let waiting = 0;
  const lost: string[] = [];
  for (const t of acceptedTicketIds) {
    const f = log.fate.get(t);
    if (ownersSeen.has(t) || f?.owned) owned += 1;
    else if (f?.offered) offeredNotOwned += 1;
    else if (f?.waiting) waiting += 1;
    else lost.push(t);
  }
  const agentDouble = [...ownersSeen].filter(([, set]) => set.size > 1).map(([t]) => t);
  const over = new Set<string>();
  for (const [slot, n] of log.peakLoad) if (n > capacityPerChannel) over.add(`${slot} (log ${n})`);
  for (const [slot, n] of agents.peakLoad) if (n > capacityPerChannel) over.add(`${slot} (agents ${n})`);
  return {
    accepted: acceptedTicketIds.length,
    owned,
    offeredNotOwned,
    waiting,
    lost,
    doubleOwners: [...new Set([...log.doubleOwners, ...agentDouble])],
    offersAfterResolve: log.offersAfterResolve,
    overCapacity: [...over],
  };
}

/** Where the tickets routing never mentioned stopped: the last topic of the pipeline that carried them. */
export interface LostStages {
  /** Answered 202, yet intake never published it to `steward.tickets.received`: lost by intake. */
  notReceived: string[];
  /** Published by intake, never triaged (`steward.tickets.triaged`): held up or lost by triage. */
  notTriaged: string[];
  /** Triaged, never in routing's events: held up or lost by routing. */
  notRouted: string[];
}

export function lostStages(lost: readonly string[], seen: { received: ReadonlySet<string>; triaged: ReadonlySet<string> }): LostStages {
  const out: LostStages = { notReceived: [], notTriaged: [], notRouted: [] };
  for (const t of lost) {
    if (!seen.received.has(t)) out.notReceived.push(t);
    else if (!seen.triaged.has(t)) out.notTriaged.push(t);
    else out.notRouted.push(t);
  }
  return out;
}

/** What routing's own log says about a take-over: the first epoch marker after the kill and that epoch's first decision. */
export interface TakeOver {
  /** Milliseconds from the kill to the new epoch's marker (the lease taken, the log fenced). */
  epochAfterMs: number;
  /** Milliseconds from the kill to the first ticket record the new leader appended. */
  firstDecisionAfterMs: number | null;
  leader: string;
}

export type RoutingLogEntry = { type: "epoch"; epoch: number; leader: string; at: number } | { type: "ticket"; epoch: number; doc: { updatedAt: number } };

/** `killedAtWallMs` is Date.now() at the kill; the log's times are the leaders' wall clocks (one machine here). */
export function takeOver(entries: readonly RoutingLogEntry[], killedAtWallMs: number): TakeOver | undefined {
  let marker: Extract<RoutingLogEntry, { type: "epoch" }> | undefined;
  for (const e of entries) {
    if (marker === undefined) {
      if (e.type === "epoch" && e.at >= killedAtWallMs) marker = e;
      continue;
    }
    if (e.type === "epoch" && e.epoch > marker.epoch) break; // yet another take-over: not this one's decision
    // A record carrying an older change (a state the new leader wrote again) is not its decision.
    if (e.type === "ticket" && e.epoch === marker.epoch && e.doc.updatedAt >= marker.at) {
      return { epochAfterMs: marker.at - killedAtWallMs, firstDecisionAfterMs: e.doc.updatedAt - killedAtWallMs, leader: marker.leader };
    }
  }
  return marker === undefined ? undefined : { epochAfterMs: marker.at - killedAtWallMs, firstDecisionAfterMs: null, leader: marker.leader };
}
