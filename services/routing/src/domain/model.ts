// The routing vocabulary: agents, waiting tickets, offers and the engine's configuration, as plain data.
// Every time is a millisecond epoch passed in by the caller; nothing here reads a clock.

import { CHANNELS, PRIORITIES } from "@steward/proto/vocabulary";

// One vocabulary for every service, in the order of the proto enums.
export { CHANNELS, PRIORITIES };
export type Channel = (typeof CHANNELS)[number];

/** P1 is the most urgent. */
export type Priority = (typeof PRIORITIES)[number];

export const PRESENCES = ["available", "away", "offline"] as const;
export type Presence = (typeof PRESENCES)[number];

export const MIN_SKILL_LEVEL = 1;
export const MAX_SKILL_LEVEL = 10;

/** Per-channel counters; a channel that is absent counts as 0. */
export type ChannelCounts = Partial<Record<Channel, number>>;

/** Who an agent is and what they can do. Changes rarely (admin edits). */
export interface AgentProfile {
  readonly id: string;
  readonly name: string;
  readonly groups: readonly string[];
  /** skill name -> level 1..10 */
  readonly skills: Readonly<Record<string, number>>;
  /** ISO 639-1 codes, lower case ("en", "pt"). */
  readonly languages: readonly string[];
  /** How many items the agent may hold at once per channel (chat 3, email 5, phone 1). Absent = 0. */
  readonly capacity: ChannelCounts;
}

/** What an agent is doing right now. Changes on every presence change, assignment and resolution. */
export interface AgentStatus {
  readonly presence: Presence;
  readonly presenceChangedAt: number;
  /** Owned work currently held, per channel. */
  readonly load: ChannelCounts;
  /**
   * The later of the agent's last assignment and their last return to "available": the longest-idle
   * agent is the one with the smallest value.
   */
  readonly idleSince: number;
}

/** What the engine knows of an agent: profile, status, and the slots held by its own pending offers. */
export interface AgentState extends AgentProfile, AgentStatus {
  /** Slots reserved by pending offers, per channel. A pending offer holds a slot so accepting can never overfill. */
  readonly reserved: ChannelCounts;
}

export interface SkillRequirement {
  readonly name: string;
  readonly minLevel: number;
  /** Optional skills are required at first and dropped once the relaxation policy says so. */
  readonly optional?: boolean;
}

/**
 * When a waiting ticket's requirements loosen, measured from `enqueuedAt`. `null` means never.
 * Language is only ever dropped when `allowLanguageRelaxation` is true.
 */
export interface RelaxationPolicy {
  readonly dropOptionalSkillsAfterMs: number | null;
  readonly addOverflowGroupAfterMs: number | null;
  readonly allowLanguageRelaxation: boolean;
  readonly dropLanguageAfterMs: number | null;
}

export interface WaitingTicket {
  readonly id: string;
  readonly group: string;
  readonly channel: Channel;
  /** ISO 639-1 code of the customer's language. */
  readonly language: string;
  readonly priority: Priority;
  readonly requiredSkills: readonly SkillRequirement[];
  /** When the SLA breaks (ms epoch); absent = no SLA clock, which sorts after every deadline. */
  readonly slaDeadline?: number;
  readonly enqueuedAt: number;
  readonly overflowGroup?: string;
  /** Absent = the engine's `defaultRelaxation`. */
  readonly relaxation?: RelaxationPolicy;
}

/** One agent's invitation to take one ticket. It holds one capacity slot on `channel` until it ends. */
export interface Offer {
  readonly offerId: string;
  readonly ticketId: string;
  readonly agentId: string;
  readonly channel: Channel;
  readonly offeredAt: number;
  readonly expiresAt: number;
}

export interface RoutingConfig {
  /** How many agents may hold an offer for the same ticket at once; the first to accept wins. */
  readonly maxParallelOffers: number;
  readonly offerTimeoutMs: Readonly<Record<Channel, number>>;
  readonly defaultRelaxation: RelaxationPolicy;
  /** A resolved ticket reopened within this window goes back to its last owner. */
  readonly reopenWindowMs: number;
  /** How many passed-over candidates an explanation lists by name (the rest are only counted). */
  readonly explanationTopK: number;
  /**
   * Agent -> ticket: how many tickets this agent already passed on may be re-checked ("is anyone else
   * eligible?") in one decision. Bounds the cost when an agent declined many tickets at the head of a queue.
   */
  readonly maxPassedTicketChecks: number;
}

/**
 * Chat and phone customers are live on the line, so a silent agent is given 30 s; email, web forms and
 * API tickets are asynchronous and get 2 minutes; social messages sit between the two.
 */
export const DEFAULT_OFFER_TIMEOUT_MS: Readonly<Record<Channel, number>> = {
  chat: 30_000,
  phone: 30_000,
  social: 60_000,
  email: 120_000,
  web: 120_000,
  api: 120_000,
};

export const DEFAULT_RELAXATION: RelaxationPolicy = {
  dropOptionalSkillsAfterMs: 2 * 60_000,
  addOverflowGroupAfterMs: 5 * 60_000,
  allowLanguageRelaxation: false,
  dropLanguageAfterMs: null,
};

export const DEFAULT_ROUTING_CONFIG: RoutingConfig = {
  maxParallelOffers: 1,
  offerTimeoutMs: DEFAULT_OFFER_TIMEOUT_MS,
  defaultRelaxation: DEFAULT_RELAXATION,
  reopenWindowMs: 7 * 24 * 60 * 60_000,
  explanationTopK: 5,
  maxPassedTicketChecks: 16,
};

export function countOn(counts: ChannelCounts, channel: Channel): number {
  return counts[channel] ?? 0;
}

/** Slots still open on a channel, counting pending offers as taken. Never negative. */
export function freeCapacity(agent: AgentState, channel: Channel): number {
  return Math.max(0, countOn(agent.capacity, channel) - countOn(agent.load, channel) - countOn(agent.reserved, channel));
}

export type Result<T, E = Error> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
