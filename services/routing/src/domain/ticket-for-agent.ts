// Agent -> ticket: for an agent with a free slot, the first waiting ticket in routing order it may be
// offered (or owned work waiting for it), and why the tickets ahead were passed over. Walks queue lanes
// head-first and stops as soon as nothing left can beat the best found, so queue length does not matter.
import type { AgentPool, PooledAgent } from "./agent-pool.ts";
import { someoneAheadInRotation } from "./agents-for-ticket.ts";
import { TICKET_PASS_REASONS, TopK, zeroCounts, type AgentDecisionExplanation, type ChosenTicket, type PassedOverTicket, type TicketPassReason } from "./explanation.ts";
import { HeapCursor, type IndexedHeap } from "./indexed-heap.ts";
import { CHANNELS, freeCapacity, type Channel, type Presence, type RoutingConfig, type WaitingTicket } from "./model.ts";
import { compareRoutingOrder, decidingOrderCriterion, type RoutingKey } from "./routing-order.ts";
import { GroupLanes, type Lane, type Partition, type QueuedTicket, type SubQueue, type TicketQueues } from "./ticket-queues.ts";
import type { HeldWork, TicketRecord } from "./ticket-record.ts";

export type AgentDecision =
  | { readonly kind: "offer"; readonly agentId: string; readonly ticketId: string; readonly explanation: AgentDecisionExplanation }
  | { readonly kind: "deliver-owned-work"; readonly agentId: string; readonly ticketId: string; readonly explanation: AgentDecisionExplanation }
  | { readonly kind: "no-eligible-ticket"; readonly agentId: string; readonly explanation: AgentDecisionExplanation }
  | { readonly kind: "agent-not-available"; readonly agentId: string; readonly presence: Exclude<Presence, "available"> }
  | { readonly kind: "no-free-capacity"; readonly agentId: string };

/** What the decision reads from the engine's index. */
export interface QueueIndex {
  readonly pool: AgentPool;
  readonly queues: TicketQueues;
  readonly config: RoutingConfig;
  recordOf(ticketId: string): TicketRecord;
  heldFor(agentId: string): ReadonlyMap<Channel, IndexedHeap<HeldWork>> | undefined;
}

/** How an agent qualifies for a queued ticket. */
type TicketSource = "own-group" | "overflow-group";

/** A lane to walk, with how the agent qualifies there and how its visits are counted. */
interface LaneWalk {
  readonly lane: Lane;
  readonly via: TicketSource;
  readonly accept: (subQueue: SubQueue) => boolean;
  readonly languageDropNeeded: boolean;
  /** own-language: counted up front; other-language: visits leave the "language" count; overflow: visits are added. */
  readonly kind: "own-language" | "other-language" | "overflow";
  readonly top: WaitingTicket;
}

interface SkippedTicket {
  readonly key: RoutingKey;
  readonly reason: TicketPassReason;
}

/** How many partitions the agent cannot open it walks past, in one lane, before switching to lookups. */
const MAX_CLOSED_PARTITIONS_SKIPPED = 4;

/** The lane's partitions this agent may open, found from whichever side is smaller: the lane's or the agent's. */
function partitionsOpenTo(lane: Lane, skills: ReadonlyMap<string, number>): Partition[] {
  const open: Partition[] = [];
  if (lane.partitions.size <= skills.size + 1) {
    for (const partition of lane.partitions.values()) if (partition.keySkill === "" || skills.has(partition.keySkill)) open.push(partition);
    return open;
  }
  const unskilled = lane.partitions.get("");
  if (unskilled !== undefined) open.push(unskilled);
  for (const skill of skills.keys()) {
    const partition = lane.partitions.get(skill);
    if (partition !== undefined) open.push(partition);
  }
  return open;
}

/**
 * The first ticket, in routing order, this agent may be offered now. Cost: one head per partition opened
 * in the agent's lanes (groups x free channels x languages, own and overflow), plus a bounded number of
 * skips for tickets this agent already holds an offer for or passed on (config.maxPassedTicketChecks).
 */
export function decideTicketForAgent(index: QueueIndex, pooledAgent: PooledAgent, now: number): AgentDecision {
  const agent = pooledAgent.state;
  const agentId = agent.id;
  if (agent.presence !== "available") return { kind: "agent-not-available", agentId, presence: agent.presence };
  const freeChannels = new Set(CHANNELS.filter((channel) => freeCapacity(agent, channel) > 0));
  if (freeChannels.size === 0) return { kind: "no-free-capacity", agentId };

  const skills = pooledAgent.skills;
  const counts = zeroCounts(TICKET_PASS_REASONS);
  const skipped = new TopK<SkippedTicket>(index.config.explanationTopK, (a, b) => compareRoutingOrder(a.key, b.key));
  const groups = pooledAgent.groups;
  const languages = pooledAgent.languages;
  let considered = 0;
  let passedChecksLeft = index.config.maxPassedTicketChecks;
  // The two best offerable tickets so far: the first is the answer, the second names the tie-breaker.
  let first: QueuedTicket | null = null;
  let firstVia: TicketSource = "own-group";
  let second: QueuedTicket | null = null;

  const couldPlace = (ticket: WaitingTicket): boolean => second === null || compareRoutingOrder(ticket, second.ticket) < 0;
  const place = (queued: QueuedTicket, via: TicketSource): void => {
    if (first === null || compareRoutingOrder(queued.ticket, first.ticket) < 0) {
      second = first;
      first = queued;
      firstVia = via;
    } else second = queued;
  };
  const skip = (queued: QueuedTicket, reason: TicketPassReason, tickets: number): void => {
    counts[reason] += tickets;
    skipped.offer({ key: queued.ticket, reason });
  };

  /** Tickets of one stage, in order, until one this agent may be offered (skips are bounded). */
  const walkStage = (heap: IndexedHeap<QueuedTicket>, via: TicketSource): void => {
    let cursor: HeapCursor<QueuedTicket> | null = null;
    for (let queued = heap.peek(); queued !== undefined && couldPlace(queued.ticket); queued = cursor.peek()) {
      const record = index.recordOf(queued.ticket.id);
      if (record.ownership.pendingOffers.some((offer) => offer.agentId === agentId)) skip(queued, "offer-pending", 1);
      else if (record.passedAt.has(agentId) && (passedChecksLeft-- <= 0 || someoneAheadInRotation(index.pool, record, agent, now))) {
        skip(queued, "previously-offered", 1);
      } else place(queued, via);
      cursor ??= new HeapCursor(heap);
      cursor.advance();
    }
  };

  const visit = (subQueue: SubQueue, via: TicketSource, languageDropNeeded: boolean): void => {
    const head = subQueue.head as QueuedTicket;
    if (subQueue.mandatorySkills.some((s) => (skills.get(s.name) ?? 0) < s.minLevel)) {
      skip(head, "missing-skill", subQueue.size);
      return;
    }
    const firstStage = subQueue.firstStageCovering({
      optionalSkillsDropped: subQueue.optionalSkills.some((s) => (skills.get(s.name) ?? 0) < s.minLevel),
      overflowGroupAdded: via === "overflow-group",
      languageDropped: languageDropNeeded,
    });
    subQueue.promote(now);
    subQueue.stages.forEach((heap, stage) => {
      const stageHead = heap.peek();
      if (stageHead === undefined) return;
      if (firstStage >= 0 && stage >= firstStage) walkStage(heap, via);
      else skip(stageHead, firstStage < 0 ? "missing-skill" : "relaxation-pending", heap.size);
    });
  };

  const compatible = (partition: Partition): boolean => partition.keySkill === "" || skills.has(partition.keySkill);

  /** One partition's sub-queues by head, while they could still beat the best two. Returns tickets visited. */
  const walkPartition = (partition: Partition, via: TicketSource, accept: (subQueue: SubQueue) => boolean, languageDropNeeded: boolean): number => {
    let visited = 0;
    let cursor: HeapCursor<SubQueue> | null = null;
    for (let subQueue = partition.heap.peek(); subQueue !== undefined && couldPlace((subQueue.head as QueuedTicket).ticket); subQueue = cursor.peek()) {
      if (accept(subQueue)) {
        visited += subQueue.size;
        visit(subQueue, via, languageDropNeeded);
      }
      cursor ??= new HeapCursor(partition.heap);
      cursor.advance();
    }
    return visited;
  };

  /**
   * One lane: partitions in head order, opening those keyed by a skill the agent has, until none left could
   * beat the best two. If too many partitions the agent cannot open sit ahead (a lane full of work needing
   * skills it lacks), it stops walking past them and opens its compatible partitions by skill lookup instead.
   * Returns the tickets visited.
   */
  const walkLane = (lane: Lane, via: TicketSource, accept: (subQueue: SubQueue) => boolean, languageDropNeeded: boolean): number => {
    let visited = 0;
    let closedSkipped = 0;
    let opened: Set<Partition> | null = null;
    let cursor: HeapCursor<Partition> | null = null;
    for (let partition = lane.byHead.peek(); partition !== undefined; partition = cursor.peek()) {
      if (!couldPlace(partition.top as WaitingTicket)) return visited;
      if (compatible(partition)) {
        visited += walkPartition(partition, via, accept, languageDropNeeded);
        (opened ??= new Set()).add(partition);
      } else if (++closedSkipped > MAX_CLOSED_PARTITIONS_SKIPPED) {
        for (const other of partitionsOpenTo(lane, skills)) {
          if (!opened?.has(other)) visited += walkPartition(other, via, accept, languageDropNeeded);
        }
        return visited;
      }
      cursor ??= new HeapCursor(lane.byHead);
      cursor.advance();
    }
    return visited;
  };

  const always = (): boolean => true;
  const walks: LaneWalk[] = [];
  const plan = (lane: Lane, via: TicketSource, accept: (subQueue: SubQueue) => boolean, languageDropNeeded: boolean, kind: LaneWalk["kind"]): void => {
    const top = lane.top;
    if (top !== null) walks.push({ lane, via, accept, languageDropNeeded, kind, top });
  };
  const spokenLanes: Lane[] = [];
  const foreignLanguage = (subQueue: SubQueue): boolean => !languages.has(subQueue.language);
  const foreignGroup = (subQueue: SubQueue): boolean => !groups.has(subQueue.group);
  const foreignGroupAndLanguage = (subQueue: SubQueue): boolean => foreignGroup(subQueue) && foreignLanguage(subQueue);
  for (const group of groups) {
    const lanes = index.queues.lanesOf(group);
    if (lanes === undefined) continue;
    for (const channel of CHANNELS) {
      const inQueue = lanes.waiting.get(channel) ?? 0;
      considered += inQueue;
      if (!freeChannels.has(channel)) {
        counts["no-capacity"] += inQueue;
        continue;
      }
      let spoken = 0;
      for (const language of languages) {
        const lane = GroupLanes.lane(lanes.home, channel, language);
        spoken += lane.tickets;
        plan(lane, "own-group", always, false, "own-language");
        // Partitions keyed by a skill the agent lacks are never walked: counted here, named below.
        let openTickets = 0;
        for (const partition of partitionsOpenTo(lane, skills)) openTickets += partition.tickets;
        counts["missing-skill"] += lane.tickets - openTickets;
        spokenLanes.push(lane);
      }
      // Tickets in languages the agent does not speak, less those it may take once relaxed (see below).
      counts.language += inQueue - spoken;
      plan(GroupLanes.lane(lanes.home, channel, null), "own-group", foreignLanguage, true, "other-language");
      for (const language of languages) plan(GroupLanes.lane(lanes.overflow, channel, language), "overflow-group", foreignGroup, false, "overflow");
      plan(GroupLanes.lane(lanes.overflow, channel, null), "overflow-group", foreignGroupAndLanguage, true, "overflow");
    }
  }

  // Walk the lanes best-first: once the best two are found early, every later lane stops at its first look.
  walks.sort((a, b) => compareRoutingOrder(a.top, b.top));
  for (const walk of walks) {
    if (!couldPlace(walk.top)) break;
    const visited = walkLane(walk.lane, walk.via, walk.accept, walk.languageDropNeeded);
    if (walk.kind === "other-language") counts.language -= visited;
    else if (walk.kind === "overflow") considered += visited;
  }

  // Owned work waiting for this agent competes in the same routing order.
  const heldHeads: HeldWork[] = [];
  for (const [channel, heap] of index.heldFor(agentId) ?? []) {
    considered += heap.size;
    if (!freeChannels.has(channel)) {
      counts["no-capacity"] += heap.size;
      continue;
    }
    const cursor = new HeapCursor(heap);
    for (let i = 0; i < 2; i++, cursor.advance()) {
      const work = cursor.peek();
      if (work !== undefined) heldHeads.push(work);
    }
  }
  const queueFirst = first as QueuedTicket | null;
  const queueSecond = second as QueuedTicket | null;
  const contenders: { key: RoutingKey; via: ChosenTicket["via"] }[] = heldHeads.map((key) => ({ key, via: "owner" }));
  if (queueFirst !== null) contenders.push({ key: queueFirst.ticket, via: firstVia });
  if (queueSecond !== null) contenders.push({ key: queueSecond.ticket, via: "own-group" });
  contenders.sort((a, b) => compareRoutingOrder(a.key, b.key));
  const [winner, runnerUp] = contenders;

  // Name what sat ahead in partitions the agent could not open: their heads, in order, up to the winner.
  for (const lane of spokenLanes) {
    const byHead = new HeapCursor(lane.byHead);
    for (let partition = byHead.peek(); partition !== undefined; byHead.advance(), partition = byHead.peek()) {
      const head = ((partition.heap.peek() as SubQueue).head as QueuedTicket).ticket;
      if (winner !== undefined && compareRoutingOrder(head, winner.key) >= 0) break;
      if (compatible(partition)) continue;
      if (!skipped.offer({ key: head, reason: "missing-skill" })) break;
    }
  }

  const individuallyCounted = TICKET_PASS_REASONS.reduce((sum, reason) => sum + counts[reason], 0);
  counts["later-in-order"] = considered - individuallyCounted - (winner === undefined ? 0 : 1);
  const passedOver: PassedOverTicket[] = skipped.items
    .filter((s) => winner === undefined || compareRoutingOrder(s.key, winner.key) < 0)
    .map((s) => ({ ticketId: s.key.id, reason: s.reason }));
  const chosen: ChosenTicket | null =
    winner === undefined
      ? null
      : {
          ticketId: winner.key.id,
          priority: winner.key.priority,
          slaDeadline: winner.key.slaDeadline ?? null,
          enqueuedAt: winner.key.enqueuedAt,
          via: winner.via,
        };
  const explanation: AgentDecisionExplanation = {
    direction: "agent-to-ticket",
    agentId,
    decidedAt: now,
    ticketsConsidered: considered,
    chosen,
    tieBreaker: winner === undefined ? null : runnerUp === undefined ? "only-candidate" : decidingOrderCriterion(winner.key, runnerUp.key),
    passedOverCounts: counts,
    passedOver,
  };
  if (chosen === null) return { kind: "no-eligible-ticket", agentId, explanation };
  if (chosen.via === "owner") return { kind: "deliver-owned-work", agentId, ticketId: chosen.ticketId, explanation };
  return { kind: "offer", agentId, ticketId: chosen.ticketId, explanation };
}
