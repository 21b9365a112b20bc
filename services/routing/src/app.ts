// The agent gateway's HTTP API: profiles, presence, live work over SSE, accept/decline/resolve.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { buildHttpApp, HttpError } from "@steward/http";
import type { Logger } from "@steward/telemetry";
import type { AgentDirectory, AgentProfile } from "./agents.ts";
import type { Router } from "./router.ts";
import type { RoutingStore, Presence } from "./routing-store.ts";
import type { WorkHub, WorkItem } from "./work-hub.ts";

export interface RoutingAppDeps {
  router: Router;
  agents: AgentDirectory;
  store: RoutingStore;
  hub: WorkHub;
  logger?: Logger;
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
}

const CHANNEL_KEYS = ["email", "chat", "phone", "social", "web", "api"] as const;
const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" } } } as const;
const offerParams = { type: "object", required: ["offerId"], properties: { offerId: { type: "string", minLength: 1, maxLength: 128 } } } as const;
const actorBody = { type: "object", additionalProperties: false, properties: { agentId: { type: "string", minLength: 1, maxLength: 128 }, reason: { type: "string", maxLength: 1000 } } } as const;

const profileBody = {
  type: "object",
  required: ["name", "groups", "skills", "languages", "capacity"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    groups: { type: "array", items: { type: "string", minLength: 1, maxLength: 100 }, maxItems: 50 },
    skills: { type: "object", additionalProperties: { type: "integer", minimum: 1, maximum: 10 }, maxProperties: 200 },
    languages: { type: "array", items: { type: "string", pattern: "^[a-z]{2}$" }, maxItems: 50 },
    capacity: {
      type: "object",
      additionalProperties: false,
      properties: Object.fromEntries(CHANNEL_KEYS.map((c) => [c, { type: "integer", minimum: 0, maximum: 100 }])),
    },
  },
} as const;

/** Who is acting: the X-Agent-Id header or the body's agentId (authentication maps tokens to agents later). */
function actor(req: FastifyRequest, fallback?: string): string | undefined {
  const header = req.headers["x-agent-id"];
  const body = req.body as { agentId?: string } | undefined;
  return (typeof header === "string" && header) || body?.agentId || fallback;
}

export async function buildRoutingApp(deps: RoutingAppDeps): Promise<FastifyInstance> {
  const app = await buildHttpApp({
    service: "agent-gateway",
    description: "Agents receive routed work live and act on it.",
    ...(deps.logger ? { logger: deps.logger } : {}),
    ready: deps.ready,
    errorStatus: {
      OFFER_NOT_FOUND: 404,
      TICKET_NOT_FOUND: 404,
      AGENT_NOT_FOUND: 404,
      OFFER_NOT_YOURS: 403,
      NOT_OWNER: 403,
      OFFER_CLOSED: 409,
      OWNERSHIP_CONFLICT: 409,
      TICKET_NOT_ASSIGNED: 409,
    },
  });

  app.put<{ Params: { id: string }; Body: AgentProfile }>("/v1/agents/:id", { schema: { summary: "Create or update an agent's profile", params: idParams, body: profileBody } }, async (req) => {
    const agent = await deps.agents.upsert(req.params.id, req.body);
    void deps.router.dispatchForAgent(agent._id);
    return agentView(agent);
  });

  app.get<{ Params: { id: string } }>("/v1/agents/:id", { schema: { params: idParams } }, async (req) => {
    const agent = await deps.store.agents.findOne({ _id: req.params.id });
    if (!agent) throw new HttpError(404, "AGENT_NOT_FOUND", `no agent ${req.params.id}`);
    return agentView(agent);
  });

  app.post<{ Params: { id: string }; Body: { status: Presence } }>(
    "/v1/agents/:id/presence",
    {
      schema: {
        summary: "Set an agent's presence",
        params: idParams,
        body: { type: "object", required: ["status"], additionalProperties: false, properties: { status: { type: "string", enum: ["available", "away", "offline"] } } },
      },
    },
    async (req) => {
      const agent = await deps.agents.setPresence(req.params.id, req.body.status);
      if (!agent) throw new HttpError(404, "AGENT_NOT_FOUND", `no agent ${req.params.id}; create it with PUT /v1/agents/${req.params.id} first`);
      if (req.body.status === "available") await deps.router.dispatchForAgent(agent._id);
      return agentView(agent);
    },
  );

  app.get<{ Params: { id: string } }>("/v1/agents/:id/work", { schema: { summary: "Live offers and assignments (server-sent events)", params: idParams } }, async (req, reply) => {
    const agentId = req.params.id;
    const agent = await deps.store.agents.findOne({ _id: agentId });
    if (!agent) throw new HttpError(404, "AGENT_NOT_FOUND", `no agent ${agentId}`);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    const write = (item: WorkItem) => res.write(`event: ${item.kind}\ndata: ${JSON.stringify(item)}\n\n`);
    const unlisten = deps.hub.listen(agentId, write);
    // A reconnecting agent gets its open offers and owned tickets again.
    const now = new Date();
    const offers = await deps.store.offers.find({ agentId, status: "open", expiresAt: { $gt: now } }).toArray();
    for (const o of offers) write({ kind: "offer", ticketId: o.ticketId, offerId: o._id, expiresAt: o.expiresAt.toISOString(), channel: o.channel });
    const owned = await deps.store.tickets.find({ ownerId: agentId, state: "assigned" }).toArray();
    for (const t of owned) write({ kind: "assignment", ticketId: t._id, channel: t.channel, subject: t.subject });
    const ping = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    req.raw.on("close", () => {
      clearInterval(ping);
      unlisten();
    });
  });

  app.post<{ Params: { offerId: string }; Body: { agentId?: string } }>("/v1/offers/:offerId/accept", { schema: { summary: "Accept an offer: the agent becomes the ticket's owner", params: offerParams, body: { ...actorBody, nullable: true } } }, async (req) => {
    const offer = await deps.store.offers.findOne({ _id: req.params.offerId });
    if (!offer) throw new HttpError(404, "OFFER_NOT_FOUND", `no offer ${req.params.offerId}`);
    return deps.router.accept(offer._id, actor(req, offer.agentId) ?? offer.agentId);
  });

  app.post<{ Params: { offerId: string }; Body: { agentId?: string; reason?: string } }>("/v1/offers/:offerId/decline", { schema: { summary: "Decline an offer: it moves on to the next agent", params: offerParams, body: { ...actorBody, nullable: true } } }, async (req) => {
    const offer = await deps.store.offers.findOne({ _id: req.params.offerId });
    if (!offer) throw new HttpError(404, "OFFER_NOT_FOUND", `no offer ${req.params.offerId}`);
    await deps.router.decline(offer._id, actor(req, offer.agentId) ?? offer.agentId, req.body?.reason ?? "");
    return { declined: true };
  });

  app.post<{ Params: { id: string }; Body: { agentId?: string } }>("/v1/tickets/:id/resolve", { schema: { summary: "Resolve a ticket (owner only)", params: idParams, body: { ...actorBody, nullable: true } } }, async (req) => {
    const agentId = actor(req);
    if (!agentId) throw new HttpError(400, "AGENT_REQUIRED", "say who resolves: X-Agent-Id header or agentId in the body");
    await deps.router.resolve(req.params.id, agentId);
    return { resolved: true };
  });

  return app;
}

function agentView(a: { _id: string; name: string; groups: string[]; skills: Record<string, number>; languages: string[]; capacity: Record<string, number>; free: Record<string, number>; presence: string; presenceChangedAt: Date }) {
  return {
    id: a._id,
    name: a.name,
    groups: a.groups,
    skills: a.skills,
    languages: a.languages,
    capacity: a.capacity,
    free: a.free,
    presence: a.presence,
    presenceChangedAt: a.presenceChangedAt.toISOString(),
  };
}
