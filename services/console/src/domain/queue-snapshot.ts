// Live queues per group: how many tickets wait for an owner, how long the oldest has waited, and how many
// open tickets are at risk of breaching or have breached. Pure over the ticket summaries.
import { isOpen, slaRisk, type TicketSummary } from "./ticket-summary.ts";

export interface QueueSnapshot {
  group: string;
  waiting: number;
  offered: number;
  /** Milliseconds the longest-waiting unowned ticket has waited (0 when none waits). */
  oldestWaitMs: number;
  atRisk: number;
  breached: number;
  open: number;
}

/** Waiting for an owner: open, and nobody owns it yet. */
export function awaitsOwner(t: TicketSummary): boolean {
  return isOpen(t) && t.ownerId === null;
}

export function queueSnapshots(tickets: readonly TicketSummary[], now: Date, atRiskWithinMs: number, groups: readonly string[] = []): QueueSnapshot[] {
  const byGroup = new Map<string, QueueSnapshot>();
  const queue = (group: string): QueueSnapshot => {
    let q = byGroup.get(group);
    if (q === undefined) {
      q = { group, waiting: 0, offered: 0, oldestWaitMs: 0, atRisk: 0, breached: 0, open: 0 };
      byGroup.set(group, q);
    }
    return q;
  };
  for (const g of groups) queue(g);
  for (const t of tickets) {
    if (!isOpen(t) || t.group === "") continue;
    const q = queue(t.group);
    q.open += 1;
    if (awaitsOwner(t)) {
      q.waiting += 1;
      if (t.status === "offered") q.offered += 1;
      const since = t.receivedAt ?? t.statusAt;
      q.oldestWaitMs = Math.max(q.oldestWaitMs, now.getTime() - Date.parse(since));
    }
    const risk = slaRisk(t, now, atRiskWithinMs);
    if (risk === "at_risk") q.atRisk += 1;
    if (risk === "breached") q.breached += 1;
  }
  return [...byGroup.values()].sort((a, b) => a.group.localeCompare(b.group));
}
