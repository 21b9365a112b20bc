// Who may call intake: channel integrations submit (their own API keys and signed webhooks, checked by
// http-auth.ts) and add messages to the tickets they submitted; a ticket is read by the integration
// that submitted it, its owner, last owner and collaborators, supervisors of its group, and admins;
// the same people find a ticket by its ST-… reference (GET /v1/tickets?reference=).
import type { FastifyRequest } from "fastify";
import { agentNamedBy, integration, integrationNamedBy, supervisorOf, type AccessTable } from "@steward/auth";
import type { TicketDoc } from "./ticket-store.ts";
import { parseReference } from "./domain/customer-identity.ts";

/** The reference a lookup names (`?reference=`), canonical, or undefined when it names none. */
export function referenceQueried(req: FastifyRequest): string | undefined {
  const q = (req.query ?? {}) as Record<string, unknown>;
  return typeof q["reference"] === "string" ? parseReference(q["reference"]) : undefined;
}

export function intakeHttpAccess(
  tickets: (ticketId: string) => Promise<TicketDoc | null>,
  byReference: (reference: string) => Promise<TicketDoc | null>,
): AccessTable<FastifyRequest> {
  const memo = new WeakMap<FastifyRequest, Promise<TicketDoc | null>>();
  // The ticket the request is about: named by id in the path, or by reference in the query.
  const ticket = (req: FastifyRequest): Promise<TicketDoc | null> => {
    let t = memo.get(req);
    if (t === undefined) {
      const id = (req.params as { id?: string } | undefined)?.id;
      const reference = id === undefined ? referenceQueried(req) : undefined;
      t = id !== undefined ? tickets(id) : reference !== undefined ? byReference(reference) : Promise.resolve(null);
      memo.set(req, t);
    }
    return t;
  };
  const submitter = integrationNamedBy("the integration that submitted the ticket", async (req: FastifyRequest) => {
    const t = await ticket(req);
    return t === null ? undefined : (t.integrationId ?? null);
  });
  const people = agentNamedBy("the ticket's owner, last owner or a collaborator", async (req: FastifyRequest) => {
    const t = await ticket(req);
    if (t === null) return undefined;
    return [t.ownerId, t.lastOwnerId, ...(t.collaborators ?? [])].filter((id): id is string => typeof id === "string" && id.length > 0);
  });
  const supervisors = supervisorOf("the ticket's group", async (req: FastifyRequest) => {
    const t = await ticket(req);
    return t === null ? undefined : t.group === null ? [] : [t.group];
  });
  return {
    "POST /v1/tickets": { allow: [integration()] },
    "POST /v1/tickets/:id/messages": { allow: [submitter] },
    "POST /v1/inbound/email": { allow: [integration()] },
    "GET /v1/tickets/:id": {
      allow: [submitter, people, supervisors],
      audit: { action: "ticket.read", resource: (req) => ({ type: "ticket", id: (req.params as { id?: string }).id ?? "" }), onlyRoles: ["supervisor", "admin"] },
    },
    "GET /v1/tickets": {
      allow: [submitter, people, supervisors],
      audit: { action: "ticket.find_by_reference", resource: (req) => ({ type: "ticket-reference", id: referenceQueried(req) ?? "" }), onlyRoles: ["supervisor", "admin"] },
    },
  };
}
