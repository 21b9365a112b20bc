// Intake's HTTP API: channel integrations hand over tickets and follow-ups; anyone may read a ticket.
import type { FastifyInstance } from "fastify";
import { buildHttpApp, HttpError } from "@steward/http";
import { KafkaUnavailableError } from "@steward/messaging";
import type { Logger } from "@steward/telemetry";
import type { IntakePipeline } from "./intake-pipeline.ts";
import type { TicketStore, TicketDoc } from "./ticket-store.ts";
import type { ChannelName, CustomerRef } from "./domain/submission.ts";
import { acceptedTicket, addMessageBody, createTicketBody, errorResponse, ticketIdParams } from "./http-schemas.ts";

export interface IntakeAppDeps {
  pipeline: IntakePipeline;
  store: TicketStore;
  logger?: Logger;
  bodyLimit: number;
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
}

const DEV_INTEGRATION = "dev";

export async function buildIntakeApp(deps: IntakeAppDeps): Promise<FastifyInstance> {
  const app = await buildHttpApp({
    service: "intake",
    description: "Channel integrations hand tickets and follow-ups to Steward.",
    ...(deps.logger ? { logger: deps.logger } : {}),
    bodyLimit: deps.bodyLimit,
    ready: deps.ready,
    errorStatus: { TICKET_NOT_FOUND: 404 },
  });

  // Kafka unreachable: the submission was not accepted, say so and when to retry.
  const unavailable = (err: unknown): never => {
    if (err instanceof KafkaUnavailableError) {
      throw new HttpError(503, "BROKER_UNAVAILABLE", "the event log is unreachable; nothing was accepted, retry later", { headers: { "retry-after": "5" } });
    }
    throw err;
  };

  app.post<{ Body: { channel: ChannelName; externalId: string; customer: CustomerRef; subject?: string; body: string; threadId?: string; metadata?: Record<string, string> } }>(
    "/v1/tickets",
    { schema: { summary: "Submit a new ticket (or a follow-up that threads onto one)", body: createTicketBody, response: { 202: acceptedTicket, 400: errorResponse, 503: errorResponse } } },
    async (req, reply) => {
      const b = req.body;
      const result = await deps.pipeline
        .submit({
          channel: b.channel,
          externalId: b.externalId,
          customer: b.customer,
          body: b.body,
          integrationId: DEV_INTEGRATION,
          ...(b.subject !== undefined ? { subject: b.subject } : {}),
          ...(b.threadId !== undefined ? { threadId: b.threadId } : {}),
          ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
        })
        .catch(unavailable);
      return reply.code(202).send(result);
    },
  );

  app.post<{ Params: { id: string }; Body: { externalId: string; from: "customer"; body: string; channel?: ChannelName } }>(
    "/v1/tickets/:id/messages",
    { schema: { summary: "Add a customer follow-up to a ticket", params: ticketIdParams, body: addMessageBody, response: { 202: acceptedTicket, 404: errorResponse, 503: errorResponse } } },
    async (req, reply) => {
      const ticket = await deps.store.get(req.params.id);
      if (!ticket) throw new HttpError(404, "TICKET_NOT_FOUND", `no ticket ${req.params.id}`);
      const result = await deps.pipeline
        .submit({
          channel: req.body.channel ?? ticket.channel,
          externalId: req.body.externalId,
          customer: ticket.customer,
          body: req.body.body,
          ticketId: ticket._id,
          integrationId: DEV_INTEGRATION,
        })
        .catch(unavailable);
      return reply.code(202).send(result);
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/tickets/:id",
    { schema: { summary: "A ticket with its conversation, history, triage and SLA clocks", params: ticketIdParams } },
    async (req) => {
      const ticket = await deps.store.get(req.params.id);
      if (!ticket) throw new HttpError(404, "TICKET_NOT_FOUND", `no ticket ${req.params.id}`);
      return ticketView(ticket);
    },
  );

  return app;
}

export function ticketView(t: TicketDoc) {
  return {
    id: t._id,
    status: t.status,
    channel: t.channel,
    customer: t.customer,
    subject: t.subject,
    language: t.language,
    intent: t.intent,
    priority: t.priority,
    group: t.group,
    requiredSkills: t.requiredSkills,
    ownerId: t.ownerId,
    lastOwnerId: t.lastOwnerId,
    collaborators: t.collaborators,
    triage: t.triage,
    sla: t.sla,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    messages: [...t.messages]
      .sort((a, b) => a.sequence - b.sequence)
      .map((m) => ({ id: m.id, externalId: m.externalId, channel: m.channel, from: m.from, body: m.body, sequence: m.sequence, at: m.at.toISOString() })),
    history: t.history.map((h) => ({ type: h.type, at: h.at.toISOString(), actor: h.actor ?? null, detail: h.detail ?? {} })),
  };
}
