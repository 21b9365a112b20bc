// What every routing decision carries to say why: who or what was considered, why each other candidate was
// passed over, and which criterion broke the final tie. Bounded (counts plus a top-k list) so it can be stored.
import type { MissingSkill, RankCriterion, SkillFit } from "./eligibility.ts";
import type { Priority } from "./model.ts";
import type { RelaxationState } from "./relaxation.ts";
import type { OrderCriterion } from "./routing-order.ts";

/** Why an agent did not get a ticket's offer. The last five mean "eligible, but ranked lower". */
export const AGENT_PASS_REASONS = [
  "not-in-group",
  "not-available",
  "language",
  "no-capacity",
  "missing-skill",
  "offer-pending",
  "previously-offered",
  "lower-fit",
  "higher-load",
  "shorter-idle",
  "tie-breaker",
] as const;
export type AgentPassReason = (typeof AGENT_PASS_REASONS)[number];

export function agentPassReasonFor(criterion: RankCriterion): AgentPassReason {
  switch (criterion) {
    case "not-previously-offered":
    case "least-recently-offered":
      return "previously-offered";
    case "skill-fit":
      return "lower-fit";
    case "load-ratio":
      return "higher-load";
    case "idle-time":
      return "shorter-idle";
    case "agent-id":
      return "tie-breaker";
  }
}

export interface PassedOverAgent {
  readonly agentId: string;
  readonly reason: AgentPassReason;
  readonly missingSkill?: MissingSkill;
}

export interface ChosenAgent {
  readonly agentId: string;
  readonly fit: SkillFit;
  readonly loadRatio: number;
  readonly idleSince: number;
  /** True when this is a re-offer to an agent who passed before, because nobody else is eligible. */
  readonly previouslyOffered: boolean;
}

export interface TicketDecisionExplanation {
  readonly direction: "ticket-to-agent";
  readonly ticketId: string;
  readonly decidedAt: number;
  readonly relaxation: RelaxationState;
  readonly groups: readonly string[];
  /** null when the language requirement has been dropped. */
  readonly language: string | null;
  readonly agentsTotal: number;
  /** Agents in the ticket's groups (own group, plus overflow group once added). */
  readonly candidatesConsidered: number;
  readonly eligible: number;
  readonly chosen: readonly ChosenAgent[];
  /** The criterion that put the last chosen agent ahead of the best agent not chosen. */
  readonly tieBreaker: RankCriterion | "only-candidate" | null;
  /** Every agent not chosen, counted once under one reason: sums with `chosen` to `agentsTotal`. */
  readonly passedOverCounts: Readonly<Record<AgentPassReason, number>>;
  /** Among agents who lack a required skill, how many lack each one (at the level needed). */
  readonly missingSkillCounts: Readonly<Record<string, number>>;
  /** Up to `explanationTopK` named agents: best-ranked runners-up first, then the closest misses. */
  readonly passedOver: readonly PassedOverAgent[];
}

/** Why a waiting ticket did not go to the agent who asked for work. */
export const TICKET_PASS_REASONS = ["no-capacity", "language", "missing-skill", "relaxation-pending", "offer-pending", "previously-offered", "later-in-order"] as const;
export type TicketPassReason = (typeof TICKET_PASS_REASONS)[number];

export interface PassedOverTicket {
  readonly ticketId: string;
  readonly reason: TicketPassReason;
}

export interface ChosenTicket {
  readonly ticketId: string;
  readonly priority: Priority;
  readonly slaDeadline: number | null;
  readonly enqueuedAt: number;
  /** How the agent qualified: own group, the ticket's overflow group, or as the ticket's owner. */
  readonly via: "own-group" | "overflow-group" | "owner";
}

export interface AgentDecisionExplanation {
  readonly direction: "agent-to-ticket";
  readonly agentId: string;
  readonly decidedAt: number;
  /**
   * Tickets waiting in the agent's groups, plus tickets of other groups examined through their overflow
   * group, plus work waiting for this agent as owner.
   */
  readonly ticketsConsidered: number;
  readonly chosen: ChosenTicket | null;
  /** The criterion that put the chosen ticket ahead of the next eligible one. */
  readonly tieBreaker: OrderCriterion | "only-candidate" | null;
  /** Every considered ticket not chosen, counted once: sums with the chosen one to `ticketsConsidered`. */
  readonly passedOverCounts: Readonly<Record<TicketPassReason, number>>;
  /**
   * Up to `explanationTopK` tickets ahead of the chosen one in routing order, best first: tickets skipped one
   * by one, and the first ticket of each group of alike tickets skipped together (the rest are only counted).
   */
  readonly passedOver: readonly PassedOverTicket[];
}

export function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  const counts = {} as Record<K, number>;
  for (const key of keys) counts[key] = 0;
  return counts;
}

/** Keeps the k best items seen, in order, in O(k) per offer: explanations stay bounded without sorting all. */
export class TopK<T> {
  readonly #k: number;
  readonly #compare: (a: T, b: T) => number;
  readonly items: T[] = [];

  constructor(k: number, compare: (a: T, b: T) => number) {
    this.#k = k;
    this.#compare = compare;
  }

  /** Returns whether the item made it into the top k (so callers walking in order can stop early). */
  offer(item: T): boolean {
    if (this.#k <= 0) return false;
    const items = this.items;
    if (items.length === this.#k && this.#compare(item, items[items.length - 1] as T) >= 0) return false;
    let i = items.length;
    while (i > 0 && this.#compare(item, items[i - 1] as T) < 0) i--;
    items.splice(i, 0, item);
    if (items.length > this.#k) items.pop();
    return true;
  }
}
