// Who may do what at the agent gateway, in one table for HTTP and one for the gRPC AgentDesk. Agents act
// only as themselves, on their own offers and the tickets they own; supervisors act within their
// groups; admins edit profiles. The acting identity is always the token's subject (see libs/auth).
import type { FastifyRequest } from "fastify";
import { agentNamedBy, agentSelf, allOf, role, supervisorOf, type AccessTable } from "@steward/auth";
import type { AgentDoc, TicketDoc } from "./routing-store.ts";
import { mayWrite, type ReplyVisibility } from "./domain/index.ts";

/** What the rules read: by id, and once per request (memoised by the caller's request object). */
export interface RoutingFacts {
  ticket(ticketId: string): Promise<TicketDoc | null>;
  agent(agentId: string): Promise<AgentDoc | null>;
  offerAgent(offerId: string): Promise<string | null>;
}

function memo<K extends object, V>(load: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const cache = new WeakMap<K, Promise<V>>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      v = load(key);
      cache.set(key, v);
    }
    return v;
  };
}

type Params = { id?: string; offerId?: string };
const params = (req: FastifyRequest): Params => req.params as Params;
const bodyAgentId = (req: FastifyRequest): string | undefined => (req.body as { agentId?: string } | null | undefined)?.agentId;

/** The groups a ticket lies in: its group, and its overflow group once routing may use it. */
export function ticketGroups(t: TicketDoc): string[] {
  return t.overflowGroup ? [t.group, t.overflowGroup] : [t.group];
}

export function routingHttpAccess(facts: RoutingFacts): AccessTable<FastifyRequest> {
  const ticket = memo((req: FastifyRequest) => facts.ticket(params(req).id ?? ""));
  const agent = memo((req: FastifyRequest) => facts.agent(params(req).id ?? ""));
  const offerAgent = memo((req: FastifyRequest) => facts.offerAgent(params(req).offerId ?? ""));

  const theAgentItself = agentSelf((req: FastifyRequest) => params(req).id);
  const actingAsSelf = agentSelf(bodyAgentId);
  const supervisorOfAgent = supervisorOf("the agent's groups", async (req: FastifyRequest) => (await agent(req))?.groups);
  const supervisorOfTicket = supervisorOf("the ticket's group", async (req: FastifyRequest) => {
    const t = await ticket(req);
    return t === null ? undefined : ticketGroups(t);
  });
  const offersAgent = agentNamedBy("the offer's agent", async (req: FastifyRequest) => {
    const id = await offerAgent(req);
    return id === null ? undefined : [id];
  });
  const ticketOwner = agentNamedBy("the ticket's owner", async (req: FastifyRequest) => {
    const t = await ticket(req);
    return t === null ? undefined : t.ownerId === null ? [] : [t.ownerId];
  });
  const ownerOrCollaborator = agentNamedBy("the ticket's owner or a collaborator", async (req: FastifyRequest) => {
    const t = await ticket(req);
    return t === null ? undefined : [...(t.ownerId === null ? [] : [t.ownerId]), ...t.collaborators];
  });
  // Decided after the body is parsed: a public reply is the owner's, an internal note also a collaborator's.
  const replyWriter = agentNamedBy("the ticket's owner (public) or a collaborator (internal)", async (req: FastifyRequest) => {
    const t = await ticket(req);
    return t === null ? undefined : mayWrite(t, replyVisibility((req.body as { visibility?: string } | null | undefined)?.visibility));
  });
  const agentResource = (req: FastifyRequest) => ({ type: "agent", id: params(req).id ?? "" });
  const ticketResource = (req: FastifyRequest) => ({ type: "ticket", id: params(req).id ?? "" });

  return {
    "PUT /v1/agents/:id": { allow: [role("admin")], audit: { action: "agent.profile.update", resource: agentResource } },
    "GET /v1/agents/:id": { allow: [theAgentItself, supervisorOfAgent] },
    "POST /v1/agents/:id/presence": {
      allow: [theAgentItself, supervisorOfAgent],
      audit: { action: "agent.presence.set", resource: agentResource, onlyRoles: ["supervisor", "admin"] },
    },
    "GET /v1/agents/:id/work": { allow: [theAgentItself] },
    "POST /v1/offers/:offerId/accept": { allow: [allOf(actingAsSelf, offersAgent)] },
    "POST /v1/offers/:offerId/decline": { allow: [allOf(actingAsSelf, offersAgent)] },
    "POST /v1/tickets/:id/resolve": { allow: [allOf(actingAsSelf, ticketOwner)] },
    "POST /v1/tickets/:id/replies": { allow: [replyWriter] },
    // Allowed to the owner only to be refused with the reason (409): agents never hand tickets away.
    "POST /v1/tickets/:id/transfer": { allow: [allOf(actingAsSelf, ticketOwner)] },
    "POST /v1/tickets/:id/reassign": { allow: [supervisorOfTicket], audit: { action: "ticket.reassign", resource: ticketResource } },
    "GET /v1/tickets/:id/routing": {
      allow: [ownerOrCollaborator, supervisorOfTicket],
      audit: { action: "ticket.read", resource: ticketResource, onlyRoles: ["supervisor", "admin"] },
    },
    "GET /v1/routing/status": { allow: [role("supervisor"), role("admin")] },
  };
}

/** Anything but "internal" is judged as public, the stricter rule (the schema refuses other values anyway). */
function replyVisibility(v: string | undefined): ReplyVisibility {
  return v === "internal" ? "internal" : "public";
}

type DeskRequest = { agentId?: string; offerId?: string; ticketId?: string; visibility?: string };

/** The AgentDesk's methods: the same rules as their HTTP routes. */
export function agentDeskAccess(facts: RoutingFacts): AccessTable<DeskRequest> {
  const actingAsSelf = agentSelf((r: DeskRequest) => r.agentId || undefined);
  const offersAgent = agentNamedBy("the offer's agent", async (r: DeskRequest) => {
    const id = await facts.offerAgent(r.offerId ?? "");
    return id === null ? undefined : [id];
  });
  const ticketOwner = agentNamedBy("the ticket's owner", async (r: DeskRequest) => {
    const t = await facts.ticket(r.ticketId ?? "");
    return t === null ? undefined : t.ownerId === null ? [] : [t.ownerId];
  });
  return {
    streamWork: { allow: [actingAsSelf] },
    accept: { allow: [allOf(actingAsSelf, offersAgent)] },
    decline: { allow: [allOf(actingAsSelf, offersAgent)] },
    resolve: { allow: [allOf(actingAsSelf, ticketOwner)] },
    setPresence: { allow: [actingAsSelf] },
    reply: {
      allow: [
        allOf(
          actingAsSelf,
          agentNamedBy("the ticket's owner (public) or a collaborator (internal)", async (r: DeskRequest) => {
            const t = await facts.ticket(r.ticketId ?? "");
            return t === null ? undefined : mayWrite(t, replyVisibility(r.visibility));
          }),
        ),
      ],
    },
  };
}
