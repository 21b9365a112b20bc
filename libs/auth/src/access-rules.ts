// The vocabulary of access rules: each route or gRPC method declares who may call it as a list of
// grants, any of which allows the call. Grants that depend on a resource (the ticket's owner, the
// agent's groups) look it up through the service's own facts; a resource that does not exist lets an
// authenticated caller through to the handler, which answers 404 as it always has.
import { hasRole, supervises, type Principal, type Role } from "./principal.ts";

/** What a grant decides: allowed, not allowed, or "the resource does not exist". */
export type GrantDecision = boolean | "missing";

export interface Grant<Req> {
  /** How the grant reads in the rules table and in a 403's message: "the ticket's owner". */
  readonly label: string;
  /** True for grants that integrations (intake's API keys and webhooks) can satisfy. */
  readonly forIntegrations?: boolean;
  allows(principal: Principal, req: Req): GrantDecision | Promise<GrantDecision>;
}

export interface AuditSpec<Req> {
  /** A stable action name, e.g. `ticket.reassign`. */
  action: string;
  resource: (req: Req) => { type: string; id: string };
  /** Record only when the caller acts through one of these roles (e.g. a supervisor's read of a ticket). */
  onlyRoles?: readonly Role[];
}

export type AccessRule<Req> =
  /** Open to anyone, with the reason it is safe to be (health checks, the API's documentation). */
  { readonly public: string } | { readonly allow: readonly Grant<Req>[]; readonly audit?: AuditSpec<Req> };

/** A service's rules, keyed by `METHOD /path` as the framework names the route, or by gRPC method. */
export type AccessTable<Req> = Readonly<Record<string, AccessRule<Req>>>;

export function role<Req>(r: Role): Grant<Req> {
  return { label: `any ${r}`, allows: (p) => hasRole(p, r) };
}

/**
 * An agent acting as itself: the agent the request names is the token's subject. `idOf` may answer
 * undefined where the request names no agent (an optional `agentId`): then the caller is that agent.
 */
export function agentSelf<Req>(idOf: (req: Req) => string | undefined): Grant<Req> {
  return { label: "the agent itself", allows: (p, req) => hasRole(p, "agent") && (idOf(req) ?? p.id) === p.id };
}

/** Every one of the grants at once: "the agent itself, being the offer's agent". */
export function allOf<Req>(...grants: Grant<Req>[]): Grant<Req> {
  return {
    label: grants.map((g) => g.label).join(" and "),
    allows: async (p, req) => {
      let missing = false;
      for (const g of grants) {
        const d = await g.allows(p, req);
        if (d === false) return false;
        if (d === "missing") missing = true;
      }
      return missing ? "missing" : true;
    },
  };
}

/** Any authenticated integration (intake's API keys and signed webhooks). */
export function integration<Req>(): Grant<Req> {
  return { label: "an integration", forIntegrations: true, allows: (p) => p.type === "integration" };
}

/** A supervisor of one of the groups the resource lies in (admins oversee every group). */
export function supervisorOf<Req>(what: string, groupsOf: (req: Req) => Promise<readonly string[] | undefined>): Grant<Req> {
  return {
    label: `a supervisor of ${what}`,
    allows: async (p, req) => {
      if (!hasRole(p, "supervisor") && !hasRole(p, "admin")) return false;
      const groups = await groupsOf(req);
      return groups === undefined ? "missing" : supervises(p, groups);
    },
  };
}

/** An agent named by the resource (the ticket's owner, the offer's agent, a collaborator). */
export function agentNamedBy<Req>(what: string, idsOf: (req: Req) => Promise<readonly string[] | undefined>): Grant<Req> {
  return {
    label: what,
    allows: async (p, req) => {
      if (!hasRole(p, "agent")) return false;
      const ids = await idsOf(req);
      return ids === undefined ? "missing" : ids.includes(p.id);
    },
  };
}

/** The integration named by the resource (the one that submitted a ticket). */
export function integrationNamedBy<Req>(what: string, idOf: (req: Req) => Promise<string | null | undefined>): Grant<Req> {
  return {
    label: what,
    forIntegrations: true,
    allows: async (p, req) => {
      if (p.type !== "integration") return false;
      const id = await idOf(req);
      return id === undefined ? "missing" : id === p.id;
    },
  };
}

export type AccessOutcome = { ok: true } | { ok: false; status: 401 | 403; code: "UNAUTHENTICATED" | "FORBIDDEN"; message: string };

/**
 * Decides a call: no principal is 401, a principal no grant allows is 403. A grant that found no such
 * resource lets the caller on to the handler (which answers 404), but only once no grant refused
 * because of who is asking rather than what exists.
 */
export async function decide<Req>(rule: AccessRule<Req>, principal: Principal | undefined, req: Req): Promise<AccessOutcome> {
  if ("public" in rule) return { ok: true };
  if (principal === undefined) return { ok: false, status: 401, code: "UNAUTHENTICATED", message: "this call needs credentials: Authorization: Bearer <token>" };
  let missing = false;
  for (const grant of rule.allow) {
    const decision = await grant.allows(principal, req);
    if (decision === true) return { ok: true };
    if (decision === "missing") missing = true;
  }
  if (missing) return { ok: true };
  return { ok: false, status: 403, code: "FORBIDDEN", message: `only ${rule.allow.map((g) => g.label).join(", or ")} may do this` };
}

/** True when the rule lets integrations in, so a call without a person's token is left to intake's own hooks. */
export function acceptsIntegrations<Req>(rule: AccessRule<Req>): boolean {
  return !("public" in rule) && rule.allow.some((g) => g.forIntegrations === true);
}
