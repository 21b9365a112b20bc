// One ticket as the console lists it, folded from the events of intake, triage, routing and escalation.
// The four topics arrive in any order relative to each other, so every fold is order-tolerant: a status
// changes only for an event at least as recent as the one that set it, and replaying an event is a no-op.
import type { TicketEvent } from "./console-events.ts";
import type { OfferRecord, SlaRisk, TicketStatus, TicketSummary } from "./ticket-summary-shape.ts";

export type { OfferRecord, RatedTicketSummary, SlaClocks, SlaRisk, TicketStatus, TicketSummary } from "./ticket-summary-shape.ts";

/** Every status, in the order a ticket goes through them (the API's enum). */
export const TICKET_STATUSES = ["new", "triaged", "waiting", "offered", "assigned", "resolved"] as const satisfies readonly TicketStatus[];

/** Offers kept per ticket (a ticket nobody takes is offered again and again). */
export const MAX_OFFERS_KEPT = 50;

export function emptySummary(ticketId: string, at: Date): TicketSummary {
  const iso = at.toISOString();
  return {
    id: ticketId,
    reference: "",
    status: "new",
    statusAt: new Date(0).toISOString(),
    channel: "",
    customerId: "",
    customerName: "",
    subject: "",
    language: "",
    intent: "",
    priority: "",
    group: "",
    ownerId: null,
    triageReasons: [],
    repeatContactCount: 0,
    receivedAt: null,
    firstOfferAt: null,
    assignedAt: null,
    resolvedAt: null,
    offers: [],
    sla: null,
    updatedAt: iso,
  };
}

const earliest = (a: string | null, b: string): string => (a === null || b < a ? b : a);

/** The status an event moves the ticket to, if it is not older than the status the ticket has. */
function withStatus(s: TicketSummary, status: TicketStatus, at: string, onlyFrom?: readonly TicketStatus[]): TicketSummary {
  if (at < s.statusAt) return s;
  if (onlyFrom && !onlyFrom.includes(s.status)) return s;
  return { ...s, status, statusAt: at };
}

/** Applies one event to a ticket's summary (a fresh one when the ticket is not known yet). */
export function foldTicket(current: TicketSummary | undefined, e: TicketEvent): TicketSummary {
  const at = e.at.toISOString();
  const s0 = current ?? emptySummary(e.ticketId, e.at);
  const s: TicketSummary = { ...s0, updatedAt: at > s0.updatedAt ? at : s0.updatedAt };
  switch (e.kind) {
    case "received":
      return withStatus(
        {
          ...s,
          reference: e.reference,
          channel: e.channel,
          customerId: e.customerId,
          customerName: e.customerName,
          subject: e.subject,
          language: s.language || e.customerLanguage,
          receivedAt: earliest(s.receivedAt, at),
        },
        "new",
        at,
        ["new"],
      );
    case "triaged":
      return withStatus(
        { ...s, language: e.language || s.language, intent: e.intent, priority: e.priority, group: e.group, repeatContactCount: e.repeatContactCount, triageReasons: e.reasons },
        "triaged",
        at,
        ["new"],
      );
    case "queued":
      return withStatus({ ...s, group: s.group || e.group }, "waiting", at, ["new", "triaged", "offered", "waiting"]);
    case "offerMade": {
      if (s.offers.some((o) => o.offerId === e.offerId)) return s;
      const offer: OfferRecord = { offerId: e.offerId, agentId: e.agentId, madeAt: at, expiresAt: e.expiresAt?.toISOString() ?? null, why: e.why, outcome: null };
      const offers = [...s.offers, offer].slice(-MAX_OFFERS_KEPT);
      return withStatus({ ...s, offers, firstOfferAt: earliest(s.firstOfferAt, at) }, "offered", at, ["new", "triaged", "waiting", "offered"]);
    }
    case "offerClosed": {
      const known = s.offers.some((o) => o.offerId === e.offerId);
      const offers = known
        ? s.offers.map((o) => (o.offerId === e.offerId ? { ...o, outcome: e.outcome } : o))
        : [...s.offers, { offerId: e.offerId, agentId: e.agentId, madeAt: at, expiresAt: null, why: "", outcome: e.outcome }].slice(-MAX_OFFERS_KEPT);
      return withStatus({ ...s, offers }, "waiting", at, ["offered"]);
    }
    case "assigned": {
      // The accepted offer is no longer open, whether or not routing also closes it.
      const offers = s.offers.map((o) => (o.offerId === e.offerId && o.outcome === null ? { ...o, outcome: "accepted" } : o));
      const next = { ...s, offers, assignedAt: earliest(s.assignedAt, at) };
      const moved = withStatus(next, "assigned", at);
      return moved === next ? next : { ...moved, ownerId: e.agentId, resolvedAt: null };
    }
    case "resolved": {
      const moved = withStatus(s, "resolved", at);
      return moved === s ? s : { ...moved, ownerId: null, resolvedAt: at };
    }
    case "reopened": {
      const moved = withStatus(s, "assigned", at);
      return moved === s ? s : { ...moved, ownerId: e.ownerId, resolvedAt: null };
    }
    case "reassigned":
      // Reassignment changes the owner, not the status; it is never older than the assignment it replaces.
      return { ...s, ownerId: s.status === "resolved" ? s.ownerId : e.toAgentId };
    case "slaUpdated":
      if (s.sla !== null && at < s.sla.at) return s;
      return {
        ...s,
        sla: {
          firstResponseDue: e.firstResponseDue?.toISOString() ?? null,
          nextResponseDue: e.nextResponseDue?.toISOString() ?? null,
          resolutionDue: e.resolutionDue?.toISOString() ?? null,
          paused: e.paused,
          warnings: e.warnings,
          breaches: e.breaches,
          at,
        },
      };
  }
}

/** Open: not yet resolved. */
export function isOpen(s: TicketSummary): boolean {
  return s.status !== "resolved";
}

/** The earliest deadline still running on an open ticket (paused clocks do not run). */
export function nextDue(s: TicketSummary): string | null {
  if (!isOpen(s) || s.sla === null || s.sla.paused) return null;
  const dues = [s.sla.firstResponseDue, s.sla.nextResponseDue, s.sla.resolutionDue].filter((d): d is string => d !== null);
  return dues.length === 0 ? null : dues.reduce((a, b) => (b < a ? b : a));
}

/**
 * Breached: escalation reported a breach, or a running deadline has passed. At risk: escalation warned,
 * or a running deadline is within `withinMs`.
 */
export function slaRisk(s: TicketSummary, now: Date, withinMs: number): SlaRisk {
  if (!isOpen(s) || s.sla === null) return "ok";
  const due = nextDue(s);
  if (s.sla.breaches.length > 0 || (due !== null && Date.parse(due) <= now.getTime())) return "breached";
  if (s.sla.paused) return "ok";
  if (s.sla.warnings.length > 0 || (due !== null && Date.parse(due) - now.getTime() <= withinMs)) return "at_risk";
  return "ok";
}
