// What a caller may list and how a search narrows it: agents see the tickets they own or were offered,
// supervisors those of their groups, admins all. Pure, so the store query and the rule cannot drift apart.
import type { TicketStatus } from "./ticket-summary.ts";

export interface Viewer {
  id: string;
  roles: ReadonlySet<string>;
  groups: readonly string[];
}

export interface TicketSearch {
  status?: TicketStatus;
  group?: string;
  owner?: string;
  reference?: string;
  customer?: string;
  limit: number;
}

/** Scope of what the viewer may see: all, some groups, or only tickets tied to one agent. */
export type ViewScope = { kind: "all" } | { kind: "groups"; groups: string[]; agentId: string | null } | { kind: "agent"; agentId: string };

export function scopeOf(viewer: Viewer): ViewScope {
  if (viewer.roles.has("admin")) return { kind: "all" };
  if (viewer.roles.has("supervisor")) return { kind: "groups", groups: [...viewer.groups], agentId: viewer.roles.has("agent") ? viewer.id : null };
  return { kind: "agent", agentId: viewer.id };
}

/** Privileged: a read that reaches beyond the caller's own work (audited). */
export function isPrivileged(scope: ViewScope): boolean {
  return scope.kind !== "agent";
}

/** Can this viewer see the ticket (group, owner and agents it was offered to)? */
export function canSee(scope: ViewScope, t: { group: string; ownerId: string | null; offers: ReadonlyArray<{ agentId: string; outcome: string | null }> }): boolean {
  switch (scope.kind) {
    case "all":
      return true;
    case "groups":
      return scope.groups.includes(t.group) || (scope.agentId !== null && t.ownerId === scope.agentId);
    case "agent":
      return t.ownerId === scope.agentId || t.offers.some((o) => o.agentId === scope.agentId && o.outcome === null);
  }
}
