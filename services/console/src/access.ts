// Who may call the console's API: every person reads their own view (agents their tickets, supervisors
// their groups', admins all: the scoping is in domain/ticket-search.ts); queues, at-risk and analytics are
// for supervisors and admins. Supervisors' and admins' reads are audited. The page and the proxy to the
// other services are open here: the services behind the proxy check the caller's token themselves.
import type { FastifyRequest } from "fastify";
import { role, type AccessTable } from "@steward/auth";

const PROXY_METHODS = ["GET", "POST", "PUT", "DELETE"] as const;

export function consoleHttpAccess(): AccessTable<FastifyRequest> {
  const person = [role<FastifyRequest>("agent"), role<FastifyRequest>("supervisor"), role<FastifyRequest>("admin")];
  const oversight = [role<FastifyRequest>("supervisor"), role<FastifyRequest>("admin")];
  const view = (id: string) => () => ({ type: "console", id });
  const audited = (action: string, id: string) => ({ action, resource: view(id), onlyRoles: ["supervisor", "admin"] as const });
  return {
    "GET /v1/console/me": { allow: person },
    "GET /v1/console/tickets": { allow: person, audit: audited("console.tickets.read", "tickets") },
    "GET /v1/console/tickets/:id": {
      allow: person,
      audit: { action: "console.ticket.read", resource: (req) => ({ type: "ticket", id: (req.params as { id?: string }).id ?? "" }), onlyRoles: ["supervisor", "admin"] },
    },
    "GET /v1/console/agents": { allow: person, audit: audited("console.agents.read", "agents") },
    "GET /v1/console/queues": { allow: oversight, audit: audited("console.queues.read", "queues") },
    "GET /v1/console/at-risk": { allow: oversight, audit: audited("console.at-risk.read", "at-risk") },
    "GET /v1/console/analytics": { allow: oversight, audit: audited("console.analytics.read", "analytics") },
    "GET /": { public: "the page" },
    "GET /sign-in.json": { public: "how the page signs people in (the identity provider's public endpoints)" },
    "GET /assets/*": { public: "the page's scripts and styles" },
    ...Object.fromEntries(PROXY_METHODS.map((m) => [`${m} /api/:service/*`, { public: "the service behind the proxy checks the caller's token" }])),
  };
}

export { PROXY_METHODS };
