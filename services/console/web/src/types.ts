// The shapes the page reads from the console API and the public APIs (as documented in their OpenAPI).
// A ticket's summary is declared once, beside the read model that stores it.
export type { RatedTicketSummary as TicketSummary } from "../../src/domain/ticket-summary-shape.ts";

export interface AgentSnapshot {
  id: string;
  name: string;
  groups: string[];
  languages: string[];
  presence: string;
  load: Record<string, { owned: number; capacity: number }>;
  currentTickets: string[];
  declines: number;
}

export interface Queue {
  group: string;
  waiting: number;
  offered: number;
  oldestWaitMs: number;
  atRisk: number;
  breached: number;
  open: number;
}

export interface Analytics {
  ticketsIn: number;
  ticketsInByHour: Array<{ hour: string; count: number }>;
  timeToFirstOffer: { count: number; p50Ms: number | null; p90Ms: number | null };
  timeToOwner: { count: number; p50Ms: number | null; p90Ms: number | null };
  slaAttainment: { met: number; breached: number; ratio: number | null };
  repeatContacts: number;
  topIntents: Array<{ intent: string; count: number }>;
  declinesPerAgent: Array<{ agentId: string; declines: number; offers: number }>;
}

export interface Me {
  id: string;
  roles: string[];
  groups: string[];
  agent: AgentSnapshot | null;
}

/** Intake's view of a ticket: the whole conversation and its history. */
export interface TicketView {
  id: string;
  status: string;
  channel: string;
  subject: string | null;
  language: string | null;
  intent: string | null;
  priority: string | null;
  group: string | null;
  ownerId: string | null;
  customer: { id: string; name?: string; email?: string; tier?: string; language?: string };
  messages: Array<{ id: string; channel: string; from: "customer" | "agent"; body: string; at: string; visibility?: string; agentId?: string }>;
  triage: { reasons?: string[]; languageConfidence?: number; intentConfidence?: number } | null;
}
