// Stored documents <-> the routing domain's plain data. The store keeps a ticket's ownership exactly as the
// domain's TicketOwnership, so the same pure transitions run on what the store holds.
import type { AgentProfile, AgentStatus, Channel, ChannelCounts, Priority, RelaxationPolicy, SkillRequirement, TicketOwnership, WaitingTicket } from "./domain/index.ts";
import { skillsOf, type AgentDoc, type Hold, type TicketDoc } from "./routing-store.ts";

export function ownershipOf(doc: TicketDoc): TicketOwnership {
  return {
    ticketId: doc._id,
    channel: doc.channel,
    status: doc.status,
    ownerId: doc.ownerId,
    lastOwnerId: doc.lastOwnerId,
    collaborators: doc.collaborators,
    pendingOffers: doc.pendingOffers,
    passedBy: doc.passedBy,
    offersMade: doc.offersMade,
    resolvedAt: doc.resolvedAt,
    lastReassignment: doc.lastReassignment,
    version: doc.version,
  };
}

/** The ticket's new state with `ownership` applied; the version is the store's, one above the doc read. */
export function withOwnership(doc: TicketDoc, ownership: TicketOwnership, now: number): TicketDoc {
  return {
    ...doc,
    version: doc.version + 1,
    status: ownership.status,
    ownerId: ownership.ownerId,
    lastOwnerId: ownership.lastOwnerId,
    collaborators: [...ownership.collaborators],
    pendingOffers: [...ownership.pendingOffers],
    passedBy: [...ownership.passedBy],
    offersMade: ownership.offersMade,
    resolvedAt: ownership.resolvedAt,
    lastReassignment: ownership.lastReassignment,
    updatedAt: now,
  };
}

export function waitingTicketOf(doc: TicketDoc, defaultRelaxation: RelaxationPolicy): WaitingTicket {
  return {
    id: doc._id,
    group: doc.group,
    channel: doc.channel,
    language: doc.language,
    priority: doc.priority,
    requiredSkills: doc.requiredSkills,
    enqueuedAt: doc.enqueuedAt,
    ...(doc.slaDeadline === null ? {} : { slaDeadline: doc.slaDeadline }),
    ...(doc.overflowGroup === null || doc.overflowGroup === doc.group ? {} : { overflowGroup: doc.overflowGroup }),
    relaxation: doc.relaxation ?? defaultRelaxation,
  };
}

/** The agent as the engine takes it; `load` is the engine's own count of the agent's owned work. */
export function agentInputOf(doc: AgentDoc, load: ChannelCounts, idleSince: number = doc.idleSince): AgentProfile & AgentStatus {
  return {
    id: doc._id,
    name: doc.name,
    groups: doc.groups,
    skills: skillsOf(doc),
    languages: doc.languages,
    capacity: doc.capacity,
    presence: doc.presence,
    presenceChangedAt: doc.presenceChangedAt,
    idleSince: Math.max(doc.idleSince, idleSince),
    load,
  };
}

export function holdsOf(doc: AgentDoc): Hold[] {
  return Object.values(doc.holds ?? {});
}

/** Free slots per channel for a capacity and the holds kept against it. */
export function freeFor(capacity: ChannelCounts, holds: readonly Hold[]): ChannelCounts {
  const free: ChannelCounts = {};
  for (const [channel, n] of Object.entries(capacity) as Array<[Channel, number]>) free[channel] = n;
  for (const hold of holds) free[hold.channel] = (free[hold.channel] ?? 0) - 1;
  return free;
}

export interface TriagedTicket {
  ticketId: string;
  channel: Channel;
  group: string;
  overflowGroup: string | null;
  language: string;
  priority: Priority;
  requiredSkills: SkillRequirement[];
  subject: string;
  /** When intake accepted the ticket (epoch ms), known on a first triage only. */
  receivedAt?: number | null;
}

/** A ticket's first stored state: waiting, no offers yet. */
export function newTicketDoc(t: TriagedTicket, now: number): TicketDoc {
  return {
    _id: t.ticketId,
    version: 0,
    channel: t.channel,
    group: t.group,
    overflowGroup: t.overflowGroup,
    language: t.language,
    priority: t.priority,
    triagePriority: t.priority,
    escalatedPriority: null,
    requiredSkills: t.requiredSkills,
    slaDeadline: null,
    slaRevision: 0,
    enqueuedAt: now,
    relaxation: null,
    subject: t.subject,
    status: "waiting",
    ownerId: null,
    lastOwnerId: null,
    collaborators: [],
    pendingOffers: [],
    passedBy: [],
    offersMade: 0,
    resolvedAt: null,
    lastReassignment: null,
    heldForOwner: false,
    offerIds: [],
    noEligible: null,
    collaboratorRequests: [],
    appliedActionKeys: [],
    history: [],
    outbox: [],
    outboxAt: now,
    createdAt: now,
    updatedAt: now,
  };
}
