// Escalation's HTTP API: health, the active SLA policy and its reload, a ticket's SLA, and the agent's
// "waiting on the customer" switch that pauses the ticket's clocks.
import type { FastifyInstance } from "fastify";
import { buildHttpApp, HttpError } from "@steward/http";
import { KafkaUnavailableError } from "@steward/messaging";
import type { Logger, Registry } from "@steward/telemetry";
import { InvalidSlaPolicyError } from "./domain/index.ts";
import { PolicyFileError, type PolicyRegistry } from "./policy-registry.ts";
import type { SlaLedger } from "./sla-ledger.ts";
import { SECURITY_SCHEMES, installAccessControl, principalLabel, principalOf, type AuditSink, type TokenVerifier } from "@steward/auth";
import { escalationHttpAccess } from "./access.ts";

export interface EscalationAppDeps {
  ledger: SlaLedger;
  policies: PolicyRegistry;
  logger?: Logger;
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  verifier: TokenVerifier;
  audit?: AuditSink;
  metrics?: Registry;
}

const errorResponse = {
  type: "object",
  properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, details: {} } } },
} as const;

const ticketIdParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 256, pattern: "^[A-Za-z0-9._:@-]+$" } },
} as const;

const clockEvent = { type: "object", properties: { clock: { type: "string" }, clockId: { type: "string" }, at: { type: "string" } } } as const;
const nullableString = { type: ["string", "null"] } as const;

const slaSnapshot = {
  type: "object",
  properties: {
    ticketId: { type: "string" },
    status: { type: "string", enum: ["pending", "open", "resolved"] },
    ownerId: nullableString,
    group: nullableString,
    priority: nullableString,
    policyName: { type: "string" },
    nextWakeAt: nullableString,
    revision: { type: "integer" },
    view: {
      type: ["object", "null"],
      properties: {
        policy: { type: "string" },
        priority: { type: "string" },
        firstResponseDue: nullableString,
        nextResponseDue: nullableString,
        resolutionDue: nullableString,
        paused: { type: "boolean" },
        warnings: { type: "array", items: clockEvent },
        breaches: { type: "array", items: clockEvent },
        level: { type: "integer" },
      },
    },
  },
} as const;

export async function buildEscalationApp(deps: EscalationAppDeps): Promise<FastifyInstance> {
  const app = await buildHttpApp({
    service: "escalation",
    description: "SLA clocks, warnings, breaches and escalation ladders.",
    ...(deps.logger ? { logger: deps.logger } : {}),
    ready: deps.ready,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    errorStatus: { SLA_NOT_FOUND: 404, TICKET_RESOLVED: 409 },
    securitySchemes: SECURITY_SCHEMES,
  });
  installAccessControl(app, {
    realm: "steward-escalation",
    verifier: deps.verifier,
    rules: escalationHttpAccess((id) => deps.ledger.get(id)),
    ...(deps.audit ? { audit: deps.audit } : {}),
  });

  const unavailable = (err: unknown): never => {
    if (err instanceof KafkaUnavailableError) {
      throw new HttpError(503, "BROKER_UNAVAILABLE", "the event log is unreachable; the change is saved and will be published, retry to confirm", {
        headers: { "retry-after": "5" },
      });
    }
    throw err;
  };

  app.get("/v1/sla/policy", { schema: { summary: "The active SLA policy and its version" } }, async () => {
    const active = deps.policies.active();
    return {
      version: active.policy.version,
      description: active.policy.description ?? null,
      seq: active.seq,
      activatedAt: active.activatedAt.toISOString(),
      activatedBy: active.activatedBy,
      policy: active.document,
    };
  });

  app.post(
    "/v1/sla/policy/reload",
    { schema: { summary: "Re-read the policy file; a new version recomputes open tickets' deadlines once", response: { 422: errorResponse } } },
    async (req) => {
      try {
        return await deps.policies.reload(principalLabel(principalOf(req)));
      } catch (err) {
        if (err instanceof InvalidSlaPolicyError)
          throw new HttpError(422, err.code, "the policy file is not a valid SLA policy; the active policy is unchanged", { details: err.issues });
        if (err instanceof PolicyFileError) throw new HttpError(422, err.code, `${err.message}; the active policy is unchanged`);
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/tickets/:id/sla",
    { schema: { summary: "A ticket's SLA clocks as escalation holds them", params: ticketIdParams, response: { 200: slaSnapshot, 404: errorResponse } } },
    async (req) => {
      const sla = await deps.ledger.get(req.params.id);
      if (sla === null) throw new HttpError(404, "SLA_NOT_FOUND", `no SLA for ticket ${req.params.id}`);
      return sla;
    },
  );

  app.post<{ Params: { id: string } }>(
    "/v1/tickets/:id/sla/pause",
    {
      schema: {
        summary: "The ticket waits on the customer: its clocks pause until the customer writes or the agent resumes",
        params: ticketIdParams,
        response: { 200: slaSnapshot, 404: errorResponse, 409: errorResponse, 503: errorResponse },
      },
    },
    async (req) => deps.ledger.applyCommand(req.params.id, { type: "waitingOnCustomer" }).catch(unavailable),
  );

  app.post<{ Params: { id: string } }>(
    "/v1/tickets/:id/sla/resume",
    {
      schema: {
        summary: "The ticket no longer waits on the customer: its clocks run again with the time they had left",
        params: ticketIdParams,
        response: { 200: slaSnapshot, 404: errorResponse, 409: errorResponse, 503: errorResponse },
      },
    },
    async (req) => deps.ledger.applyCommand(req.params.id, { type: "customerWaitOver" }).catch(unavailable),
  );

  return app;
}
