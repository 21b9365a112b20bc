// Who may call triage's HTTP API: the policy in force is for supervisors and admins; health is open.
import type { FastifyRequest } from "fastify";
import { role, type AccessTable } from "@steward/auth";

export const triageHttpAccess: AccessTable<FastifyRequest> = {
  "GET /v1/triage/policy": { allow: [role("supervisor"), role("admin")] },
};
