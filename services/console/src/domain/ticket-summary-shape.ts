// The shape of one ticket as the console lists it: what the read model stores and what the API answers
// (the same plus its SLA risk). Types only, with no imports, so the web page imports it as it is.

export type TicketStatus = "new" | "triaged" | "waiting" | "offered" | "assigned" | "resolved";

export interface OfferRecord {
  offerId: string;
  agentId: string;
  madeAt: string;
  expiresAt: string | null;
  why: string;
  outcome: string | null;
}

export interface SlaClocks {
  firstResponseDue: string | null;
  nextResponseDue: string | null;
  resolutionDue: string | null;
  paused: boolean;
  warnings: string[];
  breaches: string[];
  at: string;
}

export interface TicketSummary {
  id: string;
  reference: string;
  status: TicketStatus;
  statusAt: string;
  channel: string;
  customerId: string;
  customerName: string;
  subject: string;
  /** Triage's language, else what the integration said the customer speaks. */
  language: string;
  intent: string;
  priority: string;
  group: string;
  ownerId: string | null;
  triageReasons: string[];
  repeatContactCount: number;
  receivedAt: string | null;
  firstOfferAt: string | null;
  assignedAt: string | null;
  resolvedAt: string | null;
  offers: OfferRecord[];
  sla: SlaClocks | null;
  updatedAt: string;
}

export type SlaRisk = "breached" | "at_risk" | "ok";

/** A ticket as the console's API answers it: the summary and how close its SLA is to a breach. */
export interface RatedTicketSummary extends TicketSummary {
  risk: SlaRisk;
}
