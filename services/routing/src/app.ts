// The agent gateway's HTTP API: profiles, presence, live work over SSE, accept/decline/resolve, the refused
// transfer, supervisor reassignment, and the routing view ("why this agent"). Routes decode and validate,
// call the gateway, and map errors through HTTP_STATUS. Who may call each route is declared in access.ts;
// the acting agent or supervisor is always the caller's token, never a header or the body.
import type { FastifyInstance } from "fastify";
import { ERROR_RESPONSE_SCHEMA, buildHttpApp, TextRules } from "@steward/http";
import { classifyStoreError } from "@steward/store";
import { SECURITY_SCHEMES, installAccessControl, principalOf, type AuditSink, type TokenVerifier } from "@steward/auth";
import type { Logger, Registry } from "@steward/telemetry";
import { CHANNELS, MAX_REPLY_LENGTH, REPLY_VISIBILITIES, type Presence } from "./domain/index.ts";
import type { AgentProfileInput } from "./agents.ts";
import type { ReplyInput, RoutingGateway } from "./gateway.ts";
import { HTTP_STATUS } from "./routing-errors.ts";
import { routingHttpAccess } from "./access.ts";
import type { WorkItem } from "./work-hub.ts";

export interface RoutingAppDeps {
  gateway: RoutingGateway;
  logger?: Logger;
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  verifier: TokenVerifier;
  audit?: AuditSink;
  metrics?: Registry;
}

const idString = TextRules.id.schema;
const idParams = { type: "object", required: ["id"], properties: { id: idString } } as const;
const offerParams = { type: "object", required: ["offerId"], properties: { offerId: { type: "string", minLength: 1, maxLength: 200 } } } as const;
const actorBody = { type: "object", additionalProperties: false, properties: { agentId: idString, reason: TextRules.freeText(1000).schema } } as const;

const profileBody = {
  type: "object",
  required: ["name", "groups", "skills", "languages", "capacity"],
  additionalProperties: false,
  properties: {
    name: TextRules.name.schema,
    groups: { type: "array", items: TextRules.groupName.schema, minItems: 1, maxItems: 50 },
    skills: { type: "object", propertyNames: TextRules.skillName.schema, additionalProperties: { type: "integer", minimum: 1, maximum: 10 }, maxProperties: 200 },
    languages: { type: "array", items: TextRules.language.schema, maxItems: 50 },
    capacity: {
      type: "object",
      additionalProperties: false,
      properties: Object.fromEntries(CHANNELS.map((c) => [c, { type: "integer", minimum: 0, maximum: 100 }])),
    },
  },
} as const;

export async function buildRoutingApp(deps: RoutingAppDeps): Promise<FastifyInstance> {
  const { gateway } = deps;
  const app = await buildHttpApp({
    service: "agent-gateway",
    description: "Agents receive routed work live and act on it; supervisors reassign with a reason.",
    ...(deps.logger ? { logger: deps.logger } : {}),
    ready: deps.ready,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    errorStatus: HTTP_STATUS,
    securitySchemes: SECURITY_SCHEMES,
    classifyError: classifyStoreError,
  });
  installAccessControl(app, {
    realm: "steward-agent-gateway",
    verifier: deps.verifier,
    rules: routingHttpAccess({ ticket: (id) => gateway.ticketDoc(id), agent: (id) => gateway.agentDoc(id), offerAgent: (id) => gateway.offerAgent(id) }),
    ...(deps.audit ? { audit: deps.audit } : {}),
  });
  const actor = (req: Parameters<typeof principalOf>[0]): string => principalOf(req).id;
  // Every command can find its ticket, offer or agent in a state that refuses it (the domain's 409 codes).
  app.addHook("onRoute", (route) => {
    if (![route.method].flat().some((m) => m === "POST" || m === "PUT")) return;
    const response = ((route.schema ??= {}) as { response?: Record<string, unknown> }).response ?? {};
    response["409"] ??= {
      description: "The ticket, offer or agent is in a state that refuses this (OWNERSHIP_CONFLICT, OFFER_CLOSED, OFFER_EXPIRED, TICKET_NOT_OWNED, ...)",
      ...ERROR_RESPONSE_SCHEMA,
    };
    (route.schema as { response?: Record<string, unknown> }).response = response;
  });

  app.put<{ Params: { id: string }; Body: AgentProfileInput }>(
    "/v1/agents/:id",
    { schema: { summary: "Create or update an agent's profile", params: idParams, body: profileBody } },
    async (req) => gateway.agentView(await gateway.upsertAgent(req.params.id, req.body)),
  );

  app.get<{ Params: { id: string } }>("/v1/agents/:id", { schema: { summary: "An agent's profile, presence and free capacity", params: idParams } }, async (req) =>
    gateway.agentView(await gateway.agent(req.params.id)),
  );

  app.post<{ Params: { id: string }; Body: { status: Presence } }>(
    "/v1/agents/:id/presence",
    {
      schema: {
        summary: "Set an agent's presence (leaving available withdraws their open offers)",
        params: idParams,
        body: { type: "object", required: ["status"], additionalProperties: false, properties: { status: { type: "string", enum: ["available", "away", "offline"] } } },
      },
    },
    async (req) => gateway.agentView(await gateway.setPresence(req.params.id, req.body.status, actor(req))),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/agents/:id/work",
    {
      schema: {
        summary: "Live offers and assignments (server-sent events with ids; reconnect with Last-Event-ID to hear what was missed)",
        params: idParams,
        response: {
          200: {
            description: "An event stream: offer, assignment, follow_up, offer_closed, collaboration; each data line is a JSON work item",
            content: { "text/event-stream": { schema: { type: "string" } } },
          },
        },
      },
    },
    async (req, reply) => {
      const agentId = req.params.id;
      await gateway.agent(agentId); // 404 before the stream opens
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
      // Send the headers now: the client knows it is connected before the first item (or keep-alive).
      res.flushHeaders();
      const write = (item: WorkItem, id?: string) => res.write(`${id === undefined ? "" : `id: ${id}\n`}event: ${item.kind}\ndata: ${JSON.stringify(item)}\n\n`);
      const lastEventId = req.headers["last-event-id"];
      // Listening first, then replaying: an item sent in between may come twice (clients de-duplicate by
      // offer and ticket), never not at all.
      const unlisten = gateway.listen(agentId, write);
      if (typeof lastEventId === "string" && lastEventId !== "") {
        for (const sent of gateway.replaySince(agentId, lastEventId) ?? []) write(sent.item, sent.id);
      }
      const ping = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
      req.raw.on("close", () => {
        clearInterval(ping);
        unlisten();
      });
      // A reconnecting agent gets its open offers and owned tickets again.
      for (const item of await gateway.openWork(agentId).catch(() => [])) write(item);
    },
  );

  app.post<{ Params: { offerId: string }; Body: { agentId?: string } | null }>(
    "/v1/offers/:offerId/accept",
    { schema: { summary: "Accept an offer: the first to accept owns the ticket until it is resolved", params: offerParams, body: { ...actorBody, nullable: true } } },
    async (req) => gateway.accept(req.params.offerId, actor(req)),
  );

  app.post<{ Params: { offerId: string }; Body: { agentId?: string; reason?: string } | null }>(
    "/v1/offers/:offerId/decline",
    { schema: { summary: "Decline an offer: it moves on to the next agent", params: offerParams, body: { ...actorBody, nullable: true } } },
    async (req) => {
      await gateway.decline(req.params.offerId, actor(req), req.body?.reason ?? "");
      return { declined: true };
    },
  );

  app.post<{ Params: { id: string }; Body: { agentId?: string } | null }>(
    "/v1/tickets/:id/resolve",
    { schema: { summary: "Resolve a ticket (owner only)", params: idParams, body: { ...actorBody, nullable: true } } },
    async (req) => {
      await gateway.resolve(req.params.id, actor(req));
      return { resolved: true };
    },
  );

  app.post<{ Params: { id: string }; Body: ReplyInput }>(
    "/v1/tickets/:id/replies",
    {
      schema: {
        summary: "Answer the customer (owner only) or leave an internal note (owner or collaborator); answers the stored message",
        params: idParams,
        body: {
          type: "object",
          required: ["body", "visibility"],
          additionalProperties: false,
          properties: {
            body: { type: "string", minLength: 1, maxLength: MAX_REPLY_LENGTH },
            visibility: { type: "string", enum: [...REPLY_VISIBILITIES] },
            inReplyToMessageId: { type: "string", minLength: 1, maxLength: 200 },
            clientMessageId: { type: "string", minLength: 1, maxLength: 200 },
          },
        },
      },
    },
    async (req, reply) => reply.code(201).send(await gateway.reply(req.params.id, actor(req), req.body)),
  );

  app.post<{ Params: { id: string }; Body: { toAgentId: string; agentId?: string } }>(
    "/v1/tickets/:id/transfer",
    {
      schema: {
        summary: "Agents cannot hand tickets over: always 409 OWNERSHIP_CONFLICT (a supervisor reassigns)",
        params: idParams,
        body: { type: "object", required: ["toAgentId"], additionalProperties: false, properties: { toAgentId: idString, agentId: idString } },
      },
    },
    async (req) => gateway.transfer(req.params.id, actor(req), req.body.toAgentId),
  );

  app.post<{ Params: { id: string }; Body: { toAgentId: string; reason?: string } }>(
    "/v1/tickets/:id/reassign",
    {
      schema: {
        summary: "A supervisor of the ticket's group moves it to another agent, with a reason that is recorded",
        params: idParams,
        body: { type: "object", required: ["toAgentId"], additionalProperties: false, properties: { toAgentId: idString, reason: TextRules.freeText(1000).schema } },
      },
    },
    async (req) => gateway.reassign(req.params.id, actor(req), req.body.toAgentId, req.body.reason ?? ""),
  );

  app.get<{ Params: { id: string } }>(
    "/v1/tickets/:id/routing",
    { schema: { summary: "A ticket's routing state and why each offer went to its agent", params: idParams } },
    async (req) => gateway.routingView(req.params.id),
  );

  app.get("/v1/routing/status", { schema: { summary: "This instance, the matcher lease and the matcher's state" } }, async () => gateway.status());

  return app;
}
