// Who is calling: a person with roles (from a verified token) or a channel integration (intake's API keys
// and signed webhooks). Every access decision and every audit record starts from one of these.

export const ROLES = ["agent", "supervisor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface UserPrincipal {
  readonly type: "user";
  /** The agent id for agents; the person's stable id for supervisors and admins. */
  readonly id: string;
  readonly roles: ReadonlySet<Role>;
  /** The groups a supervisor oversees (and, for agents, informational). */
  readonly groups: readonly string[];
}

export interface IntegrationPrincipal {
  readonly type: "integration";
  readonly id: string;
}

export type Principal = UserPrincipal | IntegrationPrincipal;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function hasRole(p: Principal | undefined, role: Role): p is UserPrincipal {
  return p?.type === "user" && p.roles.has(role);
}

/** A supervisor of at least one of the groups (admins oversee every group). */
export function supervises(p: Principal | undefined, groups: readonly string[]): boolean {
  if (p?.type !== "user") return false;
  if (p.roles.has("admin")) return true;
  return p.roles.has("supervisor") && groups.some((g) => p.groups.includes(g));
}

/** How a principal is named in logs, history and audit records: `agent:ana`, `integration:shop`. */
export function principalLabel(p: Principal): string {
  if (p.type === "integration") return `integration:${p.id}`;
  const role = hasRole(p, "admin") ? "admin" : hasRole(p, "supervisor") ? "supervisor" : "agent";
  return `${role}:${p.id}`;
}
