// Who may call escalation: a ticket's SLA is read and paused (waiting on the customer) by its owner,
// the supervisors of its group and admins; the policy is read by supervisors and admins and reloaded
// by admins. Pauses, resumes, reloads and supervisors' reads are audited.
import type { FastifyRequest } from "fastify";
import { agentNamedBy, role, supervisorOf, type AccessTable } from "@steward/auth";
import type { SlaSnapshot } from "./sla-ledger.ts";

export function escalationHttpAccess(sla: (ticketId: string) => Promise<SlaSnapshot | null>): AccessTable<FastifyRequest> {
  const memo = new WeakMap<FastifyRequest, Promise<SlaSnapshot | null>>();
  const ticketId = (req: FastifyRequest): string => (req.params as { id?: string }).id ?? "";
  const snapshot = (req: FastifyRequest): Promise<SlaSnapshot | null> => {
    let s = memo.get(req);
    if (s === undefined) {
      s = sla(ticketId(req));
      memo.set(req, s);
    }
    return s;
  };
  const owner = agentNamedBy("the ticket's owner", async (req: FastifyRequest) => {
    const s = await snapshot(req);
    return s === null ? undefined : s.ownerId === null ? [] : [s.ownerId];
  });
  const supervisors = supervisorOf("the ticket's group", async (req: FastifyRequest) => {
    const s = await snapshot(req);
    return s === null ? undefined : s.group === null ? [] : [s.group];
  });
  const ticket = (req: FastifyRequest) => ({ type: "ticket", id: ticketId(req) });
  return {
    "GET /v1/sla/policy": { allow: [role("supervisor"), role("admin")] },
    "POST /v1/sla/policy/reload": { allow: [role("admin")], audit: { action: "sla.policy.reload", resource: () => ({ type: "policy", id: "sla" }) } },
    "GET /v1/tickets/:id/sla": { allow: [owner, supervisors], audit: { action: "ticket.sla.read", resource: ticket, onlyRoles: ["supervisor", "admin"] } },
    "POST /v1/tickets/:id/sla/pause": { allow: [owner, supervisors], audit: { action: "sla.pause", resource: ticket } },
    "POST /v1/tickets/:id/sla/resume": { allow: [owner, supervisors], audit: { action: "sla.resume", resource: ticket } },
  };
}
