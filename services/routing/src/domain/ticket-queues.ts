// Waiting tickets in two levels. A sub-queue holds tickets alike in everything that decides who may take
// them (group, overflow group, language, channel, skill signature, relaxation policy), split by how far they
// have relaxed; every ticket in one sub-queue stage is eligible for exactly the same agents. Sub-queues are
// then filed in "lanes" (group + channel + language), partitioned by their key skill and ordered by head
// ticket: an agent looking for work only opens the partitions of skills it has, walks them head-first,
// and stops as soon as no remaining sub-queue can beat what it already found.
import { IndexedHeap, type HeapEntry } from "./indexed-heap.ts";
import type { Channel, RelaxationPolicy, SkillRequirement, WaitingTicket } from "./model.ts";
import { relaxationSchedule, stageAfter, stateAtStage, type RelaxationState, type ScheduledStep } from "./relaxation.ts";
import { compareRoutingOrder } from "./routing-order.ts";

export interface QueuedTicket {
  readonly ticket: WaitingTicket;
  readonly subQueue: SubQueue;
  stage: number;
  stageEntry: HeapEntry<QueuedTicket>;
  promotionEntry: HeapEntry<QueuedTicket> | null;
  nextPromotionAt: number;
}

function byRoutingOrder(a: QueuedTicket, b: QueuedTicket): number {
  return compareRoutingOrder(a.ticket, b.ticket);
}

function byNextPromotion(a: QueuedTicket, b: QueuedTicket): number {
  return a.nextPromotionAt - b.nextPromotionAt || (a.ticket.id < b.ticket.id ? -1 : a.ticket.id > b.ticket.id ? 1 : 0);
}

/** What an agent lacks for a sub-queue, each of which only some relaxation step can forgive. */
export interface SubQueueNeeds {
  readonly optionalSkillsDropped: boolean;
  readonly overflowGroupAdded: boolean;
  readonly languageDropped: boolean;
}

function covers(state: RelaxationState, needs: SubQueueNeeds): boolean {
  return (
    (!needs.optionalSkillsDropped || state.optionalSkillsDropped) && (!needs.overflowGroupAdded || state.overflowGroupAdded) && (!needs.languageDropped || state.languageDropped)
  );
}

/** Sub-queues of a lane that share a key skill, ordered by head ticket, with their ticket count. */
export interface Partition {
  readonly keySkill: string;
  readonly heap: IndexedHeap<SubQueue>;
  tickets: number;
  /** The first ticket of the partition (its first sub-queue's head), kept here to spare pointer chasing. */
  top: WaitingTicket | null;
  /** This partition's place in its lane's `byHead`; null while it holds no sub-queue. */
  entry: HeapEntry<Partition> | null;
}

function byPartitionHead(a: Partition, b: Partition): number {
  return compareRoutingOrder(a.top as WaitingTicket, b.top as WaitingTicket);
}

/** All sub-queues one agent-side view can reach: one group, channel and language (or "any language"). */
export class Lane {
  /** key skill ("" for sub-queues without mandatory skills) -> partition. */
  readonly partitions = new Map<string, Partition>();
  /** Partitions ordered by their first head: names what sits ahead without opening every partition. */
  readonly byHead = new IndexedHeap<Partition>(byPartitionHead);
  tickets = 0;

  /** The lane's first ticket in routing order, or null when empty. */
  get top(): WaitingTicket | null {
    return this.byHead.peek()?.top ?? null;
  }

  partitionFor(keySkill: string): Partition {
    let partition = this.partitions.get(keySkill);
    if (partition === undefined) {
      partition = { keySkill, heap: new IndexedHeap<SubQueue>(byHead), tickets: 0, top: null, entry: null };
      this.partitions.set(keySkill, partition);
    }
    return partition;
  }

  /** (Re)places a sub-queue in its partition by its current head (or takes it out), and the partition here. */
  place(partition: Partition, subQueue: SubQueue, entry: HeapEntry<SubQueue> | null, present: boolean): HeapEntry<SubQueue> | null {
    if (entry !== null) partition.heap.remove(entry);
    const placed = present ? partition.heap.push(subQueue) : null;
    partition.top = partition.heap.peek()?.head?.ticket ?? null;
    if (partition.entry !== null) this.byHead.remove(partition.entry);
    partition.entry = partition.heap.size > 0 ? this.byHead.push(partition) : null;
    if (partition.heap.size === 0) this.partitions.delete(partition.keySkill);
    return placed;
  }
}

interface Filing {
  readonly lane: Lane;
  readonly partition: Partition;
  entry: HeapEntry<SubQueue> | null;
}

function byHead(a: SubQueue, b: SubQueue): number {
  return compareRoutingOrder((a.head as QueuedTicket).ticket, (b.head as QueuedTicket).ticket);
}

export class SubQueue {
  readonly key: string;
  readonly group: string;
  readonly overflowGroup: string | null;
  readonly language: string;
  readonly channel: Channel;
  readonly mandatorySkills: readonly SkillRequirement[];
  readonly optionalSkills: readonly SkillRequirement[];
  readonly schedule: readonly ScheduledStep[];
  readonly stageStates: readonly RelaxationState[];
  /** stages[k] holds the tickets that have reached exactly k steps of the schedule, in routing order. */
  readonly stages: readonly IndexedHeap<QueuedTicket>[];
  /**
   * The mandatory skill with the highest required level (ties: by name), or "" when none is mandatory. An
   * agent without this skill can never take these tickets, so lanes file the sub-queue under it.
   */
  readonly keySkill: string;
  readonly #filings: Filing[] = [];
  readonly #promotions = new IndexedHeap<QueuedTicket>(byNextPromotion);
  #size = 0;
  #head: QueuedTicket | undefined = undefined;

  constructor(key: string, ticket: WaitingTicket, policy: RelaxationPolicy) {
    this.key = key;
    this.group = ticket.group;
    this.overflowGroup = ticket.overflowGroup !== undefined && ticket.overflowGroup !== ticket.group ? ticket.overflowGroup : null;
    this.language = ticket.language;
    this.channel = ticket.channel;
    this.mandatorySkills = ticket.requiredSkills.filter((s) => s.optional !== true);
    this.optionalSkills = ticket.requiredSkills.filter((s) => s.optional === true);
    const hardest = [...this.mandatorySkills].sort((a, b) => b.minLevel - a.minLevel || (a.name < b.name ? -1 : 1))[0];
    this.keySkill = hardest === undefined ? "" : hardest.name;
    this.schedule = relaxationSchedule(policy);
    this.stageStates = Array.from({ length: this.schedule.length + 1 }, (_, stage) => stateAtStage(this.schedule, stage));
    this.stages = this.stageStates.map(() => new IndexedHeap<QueuedTicket>(byRoutingOrder));
  }

  get size(): number {
    return this.#size;
  }

  /** The first ticket of the sub-queue in routing order, whatever its stage. */
  get head(): QueuedTicket | undefined {
    return this.#head;
  }

  /** True when waiting long enough could ever let an agent outside `group` take these tickets. */
  get overflowReachable(): boolean {
    return this.overflowGroup !== null && this.schedule.some((s) => s.step === "add-overflow-group");
  }

  get languageDroppable(): boolean {
    return this.schedule.some((s) => s.step === "drop-language");
  }

  /** The lowest stage whose relaxation forgives everything in `needs`, or -1 if no stage ever does. */
  firstStageCovering(needs: SubQueueNeeds): number {
    return this.stageStates.findIndex((state) => covers(state, needs));
  }

  insert(ticket: WaitingTicket, now: number): QueuedTicket {
    const stage = stageAfter(this.schedule, now - ticket.enqueuedAt);
    const heap = this.stages[stage] as IndexedHeap<QueuedTicket>;
    const queued: QueuedTicket = {
      ticket,
      subQueue: this,
      stage,
      stageEntry: undefined as unknown as HeapEntry<QueuedTicket>,
      promotionEntry: null,
      nextPromotionAt: Number.POSITIVE_INFINITY,
    };
    queued.stageEntry = heap.push(queued);
    this.#schedulePromotion(queued);
    this.#size++;
    this.#count(1);
    if (this.#head === undefined || byRoutingOrder(queued, this.#head) < 0) {
      this.#head = queued;
      this.#refile();
    }
    return queued;
  }

  delete(queued: QueuedTicket): void {
    (this.stages[queued.stage] as IndexedHeap<QueuedTicket>).remove(queued.stageEntry);
    if (queued.promotionEntry !== null) this.#promotions.remove(queued.promotionEntry);
    queued.promotionEntry = null;
    this.#size--;
    this.#count(-1);
    if (this.#head === queued) {
      this.#head = this.#computeHead();
      this.#refile();
    }
  }

  /**
   * Moves tickets whose wait has crossed their next threshold into their new stage. Each ticket moves at
   * most once per step of the schedule over its whole life, so the cost is amortised over its stay. The
   * sub-queue's head does not change: promotion moves tickets between stages, never out.
   */
  promote(now: number): void {
    for (;;) {
      const next = this.#promotions.peek();
      if (next === undefined || next.nextPromotionAt > now) return;
      this.#promotions.pop();
      next.promotionEntry = null;
      (this.stages[next.stage] as IndexedHeap<QueuedTicket>).remove(next.stageEntry);
      next.stage = Math.max(next.stage, stageAfter(this.schedule, now - next.ticket.enqueuedAt));
      next.stageEntry = (this.stages[next.stage] as IndexedHeap<QueuedTicket>).push(next);
      this.#schedulePromotion(next);
    }
  }

  fileIn(lane: Lane): void {
    const partition = lane.partitionFor(this.keySkill);
    this.#filings.push({ lane, partition, entry: lane.place(partition, this, null, this.#head !== undefined) });
    partition.tickets += this.#size;
    lane.tickets += this.#size;
  }

  unfileAll(): void {
    for (const { lane, partition, entry } of this.#filings) {
      partition.tickets -= this.#size;
      lane.tickets -= this.#size;
      lane.place(partition, this, entry, false);
    }
    this.#filings.length = 0;
  }

  #count(delta: number): void {
    for (const { lane, partition } of this.#filings) {
      partition.tickets += delta;
      lane.tickets += delta;
    }
  }

  #computeHead(): QueuedTicket | undefined {
    let head: QueuedTicket | undefined;
    for (const heap of this.stages) {
      const top = heap.peek();
      if (top !== undefined && (head === undefined || byRoutingOrder(top, head) < 0)) head = top;
    }
    return head;
  }

  /** The head changed: re-position this sub-queue in every lane. */
  #refile(): void {
    for (const filing of this.#filings) filing.entry = filing.lane.place(filing.partition, this, filing.entry, this.#head !== undefined);
  }

  #schedulePromotion(queued: QueuedTicket): void {
    const nextStep = this.schedule[queued.stage];
    if (nextStep === undefined) {
      queued.nextPromotionAt = Number.POSITIVE_INFINITY;
      return;
    }
    queued.nextPromotionAt = queued.ticket.enqueuedAt + nextStep.afterMs;
    queued.promotionEntry = this.#promotions.push(queued);
  }
}

const SEP = "\u0001";

function skillSignature(skills: readonly SkillRequirement[]): string {
  return skills
    .map((s) => `${s.name}${SEP}${s.minLevel}${SEP}${s.optional === true ? "o" : "m"}`)
    .sort()
    .join(SEP + SEP);
}

function policySignature(policy: RelaxationPolicy): string {
  return `${policy.dropOptionalSkillsAfterMs}/${policy.addOverflowGroupAfterMs}/${policy.allowLanguageRelaxation}/${policy.dropLanguageAfterMs}`;
}

const EMPTY_LANE: Lane = new Lane();

/** language (null: any language, for sub-queues whose language may be dropped) -> lane. */
export type LanesByLanguage = Map<string | null, Lane>;

/** Every lane reachable from one group, by channel: its own tickets, and other groups' that overflow into it. */
export class GroupLanes {
  readonly home = new Map<Channel, LanesByLanguage>();
  readonly overflow = new Map<Channel, LanesByLanguage>();
  /** The group's own waiting tickets per channel, for explanation counts. */
  readonly waiting = new Map<Channel, number>();

  static lane(byChannel: ReadonlyMap<Channel, LanesByLanguage>, channel: Channel, language: string | null): Lane {
    return byChannel.get(channel)?.get(language) ?? EMPTY_LANE;
  }
}

function laneIn(byChannel: Map<Channel, LanesByLanguage>, channel: Channel, language: string | null): Lane {
  let byLanguage = byChannel.get(channel);
  if (byLanguage === undefined) {
    byLanguage = new Map();
    byChannel.set(channel, byLanguage);
  }
  let lane = byLanguage.get(language);
  if (lane === undefined) {
    lane = new Lane();
    byLanguage.set(language, lane);
  }
  return lane;
}

export class TicketQueues {
  readonly #tickets = new Map<string, QueuedTicket>();
  readonly #subQueues = new Map<string, SubQueue>();
  readonly #groups = new Map<string, GroupLanes>();

  get size(): number {
    return this.#tickets.size;
  }

  get subQueueCount(): number {
    return this.#subQueues.size;
  }

  has(ticketId: string): boolean {
    return this.#tickets.has(ticketId);
  }

  get(ticketId: string): QueuedTicket | undefined {
    return this.#tickets.get(ticketId);
  }

  add(ticket: WaitingTicket, policy: RelaxationPolicy, now: number): QueuedTicket {
    this.remove(ticket.id);
    const key = [ticket.group, ticket.overflowGroup ?? "", ticket.language, ticket.channel, skillSignature(ticket.requiredSkills), policySignature(policy)].join(SEP + SEP + SEP);
    let subQueue = this.#subQueues.get(key);
    const created = subQueue === undefined;
    if (subQueue === undefined) {
      subQueue = new SubQueue(key, ticket, policy);
      this.#subQueues.set(key, subQueue);
    }
    const queued = subQueue.insert(ticket, now);
    if (created) this.#fileEverywhere(subQueue);
    this.#tickets.set(ticket.id, queued);
    const waiting = this.#group(ticket.group).waiting;
    waiting.set(ticket.channel, (waiting.get(ticket.channel) ?? 0) + 1);
    return queued;
  }

  remove(ticketId: string): boolean {
    const queued = this.#tickets.get(ticketId);
    if (queued === undefined) return false;
    const subQueue = queued.subQueue;
    subQueue.delete(queued);
    this.#tickets.delete(ticketId);
    const waiting = this.#group(subQueue.group).waiting;
    waiting.set(subQueue.channel, (waiting.get(subQueue.channel) ?? 1) - 1);
    if (subQueue.size === 0) {
      subQueue.unfileAll();
      this.#subQueues.delete(subQueue.key);
    }
    return true;
  }

  /** The lanes an agent of `group` draws from; undefined when nothing was ever queued for it. */
  lanesOf(group: string): GroupLanes | undefined {
    return this.#groups.get(group);
  }

  /** Waiting tickets whose own group is `group` on `channel` (in `language`, when given). */
  countIn(group: string, channel: Channel, language?: string): number {
    const lanes = this.#groups.get(group);
    if (lanes === undefined) return 0;
    return language === undefined ? (lanes.waiting.get(channel) ?? 0) : GroupLanes.lane(lanes.home, channel, language).tickets;
  }

  /** Sub-queues of home group `group` on `channel` in `language` (null: those whose language may be dropped). */
  homeLane(group: string, channel: Channel, language: string | null): Lane {
    const lanes = this.#groups.get(group);
    return lanes === undefined ? EMPTY_LANE : GroupLanes.lane(lanes.home, channel, language);
  }

  /** Sub-queues of other groups that may overflow into `group` (null language: language may be dropped). */
  overflowLane(group: string, channel: Channel, language: string | null): Lane {
    const lanes = this.#groups.get(group);
    return lanes === undefined ? EMPTY_LANE : GroupLanes.lane(lanes.overflow, channel, language);
  }

  #group(group: string): GroupLanes {
    let lanes = this.#groups.get(group);
    if (lanes === undefined) {
      lanes = new GroupLanes();
      this.#groups.set(group, lanes);
    }
    return lanes;
  }

  #fileEverywhere(subQueue: SubQueue): void {
    const { group, channel, language } = subQueue;
    const home = this.#group(group).home;
    subQueue.fileIn(laneIn(home, channel, language));
    if (subQueue.languageDroppable) subQueue.fileIn(laneIn(home, channel, null));
    if (!subQueue.overflowReachable) return;
    const overflow = this.#group(subQueue.overflowGroup as string).overflow;
    subQueue.fileIn(laneIn(overflow, channel, language));
    if (subQueue.languageDroppable) subQueue.fileIn(laneIn(overflow, channel, null));
  }
}
