// The last 24 hours for supervisors: tickets in, time to first offer and to owner (p50 / p90), SLA
// attainment, repeat contacts, top intents and declines per agent. Pure over the ticket summaries.
import type { TicketSummary } from "./ticket-summary.ts";

export interface Percentiles {
  count: number;
  p50Ms: number | null;
  p90Ms: number | null;
}

export interface Analytics {
  from: string;
  to: string;
  ticketsIn: number;
  /** Tickets in per hour of the window, oldest first (24 buckets). */
  ticketsInByHour: Array<{ hour: string; count: number }>;
  timeToFirstOffer: Percentiles;
  timeToOwner: Percentiles;
  /** Tickets with SLA clocks and no breach, over tickets with SLA clocks (null when none had clocks). */
  slaAttainment: { met: number; breached: number; ratio: number | null };
  repeatContacts: number;
  topIntents: Array<{ intent: string; count: number }>;
  declinesPerAgent: Array<{ agentId: string; declines: number; offers: number }>;
}

/** Nearest-rank percentile of sorted values (q in 0..1). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? null;
}

function percentiles(values: number[]): Percentiles {
  const sorted = values.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 0.5), p90Ms: percentile(sorted, 0.9) };
}

const HOUR = 3_600_000;

export function analytics(tickets: readonly TicketSummary[], now: Date, windowMs = 24 * HOUR): Analytics {
  const from = new Date(now.getTime() - windowMs);
  const fromIso = from.toISOString();
  const inWindow = tickets.filter((t) => t.receivedAt !== null && t.receivedAt >= fromIso);
  const buckets = Math.ceil(windowMs / HOUR);
  const byHour = Array.from({ length: buckets }, (_, i) => ({ hour: new Date(from.getTime() + i * HOUR).toISOString(), count: 0 }));
  for (const t of inWindow) {
    const i = Math.min(buckets - 1, Math.floor((Date.parse(t.receivedAt as string) - from.getTime()) / HOUR));
    const bucket = byHour[i];
    if (bucket) bucket.count += 1;
  }
  const since = (t: TicketSummary, at: string | null) => (at === null || t.receivedAt === null ? Number.NaN : Date.parse(at) - Date.parse(t.receivedAt));
  let met = 0;
  let breached = 0;
  for (const t of inWindow) {
    if (t.sla === null) continue;
    if (t.sla.breaches.length > 0) breached += 1;
    else met += 1;
  }
  const intents = new Map<string, number>();
  for (const t of inWindow) if (t.intent !== "") intents.set(t.intent, (intents.get(t.intent) ?? 0) + 1);
  const perAgent = new Map<string, { declines: number; offers: number }>();
  for (const t of tickets) {
    for (const o of t.offers) {
      if (o.madeAt < fromIso) continue;
      const a = perAgent.get(o.agentId) ?? { declines: 0, offers: 0 };
      a.offers += 1;
      if (o.outcome === "declined") a.declines += 1;
      perAgent.set(o.agentId, a);
    }
  }
  return {
    from: fromIso,
    to: now.toISOString(),
    ticketsIn: inWindow.length,
    ticketsInByHour: byHour,
    timeToFirstOffer: percentiles(inWindow.map((t) => since(t, t.firstOfferAt))),
    timeToOwner: percentiles(inWindow.map((t) => since(t, t.assignedAt))),
    slaAttainment: { met, breached, ratio: met + breached === 0 ? null : met / (met + breached) },
    repeatContacts: inWindow.filter((t) => t.repeatContactCount > 0).length,
    topIntents: [...intents]
      .map(([intent, count]) => ({ intent, count }))
      .sort((a, b) => b.count - a.count || a.intent.localeCompare(b.intent))
      .slice(0, 10),
    declinesPerAgent: [...perAgent].map(([agentId, v]) => ({ agentId, ...v })).sort((a, b) => b.declines - a.declines || a.agentId.localeCompare(b.agentId)),
  };
}
