// The order in which waiting work is served: priority (P1 first), then the SLA deadline closest to
// breaking, then the oldest, then ticket id so the order is total and the same on every replica.
import type { Priority } from "./model.ts";

export interface RoutingKey {
  readonly id: string;
  readonly priority: Priority;
  readonly slaDeadline?: number;
  readonly enqueuedAt: number;
}

export type OrderCriterion = "priority" | "sla-deadline" | "enqueued-at" | "ticket-id";

const PRIORITY_RANK: Readonly<Record<Priority, number>> = { P1: 0, P2: 1, P3: 2, P4: 3 };

export function priorityRank(priority: Priority): number {
  return PRIORITY_RANK[priority];
}

function deadlineOf(key: RoutingKey): number {
  return key.slaDeadline ?? Number.POSITIVE_INFINITY;
}

/** Negative when `a` is served before `b`. */
export function compareRoutingOrder(a: RoutingKey, b: RoutingKey): number {
  const byPriority = PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority];
  if (byPriority !== 0) return byPriority;
  const deadlineA = deadlineOf(a);
  const deadlineB = deadlineOf(b);
  if (deadlineA !== deadlineB) return deadlineA < deadlineB ? -1 : 1;
  if (a.enqueuedAt !== b.enqueuedAt) return a.enqueuedAt < b.enqueuedAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The first criterion on which two distinct keys differ: what put one ahead of the other. */
export function decidingOrderCriterion(a: RoutingKey, b: RoutingKey): OrderCriterion {
  if (a.priority !== b.priority) return "priority";
  if (deadlineOf(a) !== deadlineOf(b)) return "sla-deadline";
  if (a.enqueuedAt !== b.enqueuedAt) return "enqueued-at";
  return "ticket-id";
}
