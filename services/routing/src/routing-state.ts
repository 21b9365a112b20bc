// What routing's ledger, matcher and outbox need from the state they change: tickets read and replaced
// against the version read, capacity holds, hints, and the reads a take-over makes. Two implementations:
// the store itself (RoutingStore: every change a conditional write; ADR 0004, kept for tools and tests that
// exercise the store's guards) and the leader's memory with the routing log as the record (LoggedState;
// ADR 0014, what the service runs).
import type { Channel } from "./domain/index.ts";
import type { AgentDoc, Hold, OfferDoc, OutboxEntry, TicketDoc, TicketHintDoc } from "./routing-store.ts";

export interface RoutingState {
  getTicket(ticketId: string): Promise<TicketDoc | null>;
  /**
   * False when the ticket exists already. `receivedAt` (epoch ms), when known, is when intake accepted the
   * ticket: no routing ticket can be older, which lets the leader skip the store for a young ticket it has
   * not seen (LoggedState).
   */
  insertTicket(doc: TicketDoc, known?: { receivedAt: number | null; deferAppend?: boolean }): Promise<boolean>;
  /**
   * With `deferAppend`, the leader may hold a new ticket in memory only (LoggedState): the ticket's next
   * change appends it whole, or `appendDeferred` does. Until then it is not durable, so nothing may act on
   * it: its events are not published and it is left out of the snapshot. True while that is so.
   */
  isDeferred?(ticketId: string): boolean;
  /** Appends the tickets still held back by `deferAppend` and returns them as appended (their events may go out now). */
  appendDeferred?(): Promise<TicketDoc[]>;
  /**
   * True when the ticket is certainly resolved as the store holds it, known without reading it (the leader's
   * recently resolved tickets, LoggedState); false when that is not known.
   */
  knownResolved(ticketId: string): boolean;
  /** Replaces the ticket when it is still at `expectedVersion` and matches the guards (field equality). */
  casTicket(next: TicketDoc, expectedVersion: number, guards: Record<string, unknown>): Promise<boolean>;
  /** Forgets published outbox entries (not a state change: the version stays). */
  dropPublished(published: ReadonlyArray<{ ticketId: string; version: number; keep: readonly OutboxEntry[] }>): Promise<void>;
  getAgent(agentId: string): Promise<AgentDoc | null>;
  acquireHold(agentId: string, hold: Hold, requireAvailable: boolean): Promise<boolean>;
  releaseHold(agentId: string, ticketId: string, channel: Channel, onlyIfAt?: number, busySince?: number): Promise<boolean>;
  getOffer(offerId: string): Promise<OfferDoc | null>;
  getHint(ticketId: string): Promise<TicketHintDoc | null>;
  putHint(doc: TicketHintDoc): Promise<void>;
  deleteHint(ticketId: string): Promise<void>;
  // Take-over and sweep reads (whole collections on the store; memory on the leader).
  allAgents(): Promise<AgentDoc[]>;
  allHints(): Promise<TicketHintDoc[]>;
  /** Tickets waiting or owned, and any ticket with events not yet known to be published. */
  liveTickets(): Promise<TicketDoc[]>;
  /** Tickets whose unpublished events are older than `before` (epoch ms). */
  staleOutboxes(before: number): Promise<TicketDoc[]>;
}
