// Helpers for routing's integration tests: what triage and escalation would publish, a reader of every
// routing event, and the agent gateway's HTTP calls. Tests use them against the real broker and store.
import { Channel, Priority, Topics, escalationEffectOf, type Envelope, type TopicName, type EscalationAction, type SlaUpdated, type TicketTriaged } from "@steward/proto";
import { newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import { bearer, tokens, uniqueName, waitFor } from "@steward/testkit";
import type { AgentDoc } from "../src/routing-store.ts";

export interface TriagedInput {
  group: string;
  channel?: Channel;
  priority?: Priority;
  language?: string;
  skills?: Array<{ name: string; minLevel: number; optional?: boolean }>;
  overflowGroup?: string;
  retriage?: boolean;
  subject?: string;
  /** When intake accepted the ticket; default: now on a first triage (as triage sends it), none on a retriage. */
  receivedAt?: Date | null;
}

export function triaged(input: TriagedInput): TicketTriaged {
  return {
    language: input.language ?? "en",
    languageConfidence: 0.99,
    intent: "billing",
    intentConfidence: 0.9,
    priority: input.priority ?? Priority.P3,
    group: input.group,
    requiredSkills: (input.skills ?? []).map((s) => ({ name: s.name, minLevel: s.minLevel, optional: s.optional ?? false })),
    slaPolicy: "default",
    policyVersion: "test",
    reasons: ["test"],
    repeatContactCount: 0,
    answerDidNotHelp: false,
    retriage: input.retriage ?? false,
    channel: input.channel ?? Channel.EMAIL,
    overflowGroup: input.overflowGroup ?? "",
    customerTier: "standard",
    customerId: "customer-1",
    subject: input.subject ?? "Question",
    ticketReceivedAt: input.receivedAt === undefined ? (input.retriage ? undefined : new Date()) : (input.receivedAt ?? undefined),
  };
}

/** What triage publishes for a new ticket or a follow-up (retriage). Returns the event id. */
export async function publishTriaged(bus: EventBus, ticketId: string, input: TriagedInput, eventId?: string): Promise<string> {
  const envelope = newEnvelope("ticketTriaged", ticketId, triaged(input), "triage", eventId === undefined ? {} : { eventId });
  await bus.publish({ topic: Topics.triaged, envelope });
  return envelope.eventId;
}

/** An EscalationAction as escalation writes it: the legacy flat fields and the typed `effect` built from them. */
export function escalationAction(fields: Partial<EscalationAction> & { action: string; key: string }): EscalationAction {
  const action: EscalationAction = {
    level: 1,
    priority: Priority.UNSPECIFIED,
    reason: "test escalation",
    clock: "firstResponse",
    role: "",
    relaxSkills: false,
    addGroups: [],
    source: "firstResponse.1",
    ownerId: "",
    group: "",
    policyVersion: "test",
    dueAt: undefined,
    previousPriority: Priority.UNSPECIFIED,
    effect: undefined,
    ...fields,
  };
  return { ...action, effect: fields.effect ?? escalationEffectOf(action) };
}

export async function publishEscalation(bus: EventBus, ticketId: string, action: EscalationAction): Promise<void> {
  await bus.publish({ topic: Topics.escalation, envelope: newEnvelope("escalationAction", ticketId, action, "escalation", { eventId: `${action.key}/action` }) });
}

/** What escalation publishes when a ticket's SLA clocks change: here, only the first-response deadline. */
export async function publishSla(bus: EventBus, ticketId: string, firstResponseDue: number, revision: number): Promise<void> {
  const value: SlaUpdated = {
    policy: "default",
    policyVersion: "test",
    firstResponseDue: new Date(firstResponseDue),
    nextResponseDue: undefined,
    resolutionDue: undefined,
    paused: false,
    warnings: [],
    breaches: [],
    level: 0,
    revision,
    priority: Priority.P3,
  };
  await bus.publish({ topic: Topics.escalation, envelope: newEnvelope("slaUpdated", ticketId, value, "escalation", { eventId: `${ticketId}/sla/${revision}` }) });
}

/** Every routing event since the reader started, in arrival order. */
export class RoutingEventLog {
  readonly events: Envelope[] = [];
  #subscription: Subscription | null = null;

  static async start(bus: EventBus, topics: TopicName[] = [Topics.routing]): Promise<RoutingEventLog> {
    const log = new RoutingEventLog();
    log.#subscription = await bus.subscribe({
      groupId: uniqueName("routing-test-reader"),
      topics,
      fromBeginning: true,
      handler: async ({ envelope }) => {
        log.events.push(envelope);
      },
    });
    return log;
  }

  of(ticketId: string, type?: string): Envelope[] {
    return this.events.filter((e) => e.ticketId === ticketId && (type === undefined || e.type === type));
  }

  /** Distinct events by id (delivery is at least once; a republished outbox repeats ids). */
  distinct(): Envelope[] {
    const seen = new Set<string>();
    return this.events.filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
  }

  async waitFor(what: string, predicate: (e: Envelope) => boolean, timeoutMs = 30_000, after = 0): Promise<Envelope> {
    return waitFor(() => this.events.slice(after).find(predicate), { what, timeoutMs, intervalMs: 50 });
  }

  /** The n-th offer made for a ticket (0-based), once it exists. */
  async offer(ticketId: string, n = 0, timeoutMs = 30_000): Promise<{ offerId: string; agentId: string; envelope: Envelope }> {
    const envelope = await waitFor(() => distinctOf(this.of(ticketId, "offer.made"))[n], { what: `offer #${n} for ${ticketId}`, timeoutMs, intervalMs: 50 });
    if (envelope.payload?.$case !== "offerMade") throw new Error("not an offer");
    return { offerId: envelope.payload.value.offerId, agentId: envelope.payload.value.agentId, envelope };
  }

  async stop(): Promise<void> {
    await this.#subscription?.stop();
  }
}

function distinctOf(events: Envelope[]): Envelope[] {
  const seen = new Set<string>();
  return events.filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
}

/** Who calls: a person's token (agents act as themselves, the admin edits profiles and reads everything). */
export type Caller = { agent: string } | { supervisor: string; groups: string[] } | { admin: string } | "anonymous";

async function authHeaders(caller: Caller): Promise<Record<string, string>> {
  if (caller === "anonymous") return {};
  if ("agent" in caller) return bearer(tokens.agent(caller.agent));
  if ("supervisor" in caller) return bearer(tokens.supervisor(caller.supervisor, caller.groups));
  return bearer(tokens.admin(caller.admin));
}

const ADMIN: Caller = { admin: "test-admin" };

export function http(baseUrl: string) {
  const call = async (method: string, path: string, body?: unknown, caller: Caller = ADMIN) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(await authHeaders(caller)) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> & { error?: { code: string; message: string } } };
  };
  return {
    call,
    putAgent: (id: string, profile: AgentProfileBody) => call("PUT", `/v1/agents/${id}`, profile),
    presence: (id: string, status: "available" | "away" | "offline") => call("POST", `/v1/agents/${id}/presence`, { status }, { agent: id }),
    accept: (offerId: string, agentId: string) => call("POST", `/v1/offers/${encodeURIComponent(offerId)}/accept`, {}, { agent: agentId }),
    decline: (offerId: string, agentId: string, reason = "busy") => call("POST", `/v1/offers/${encodeURIComponent(offerId)}/decline`, { reason }, { agent: agentId }),
    resolve: (ticketId: string, agentId: string) => call("POST", `/v1/tickets/${ticketId}/resolve`, {}, { agent: agentId }),
    routing: (ticketId: string) => call("GET", `/v1/tickets/${ticketId}/routing`),
    agent: (id: string) => call("GET", `/v1/agents/${id}`),
    status: () => call("GET", "/v1/routing/status"),
  };
}

export interface AgentProfileBody {
  name: string;
  groups: string[];
  skills: Record<string, number>;
  languages: string[];
  capacity: Record<string, number>;
}

export function agentIn(groups: string[], capacity: Record<string, number> = { email: 1, chat: 1 }, skills: Record<string, number> = { billing: 5 }): AgentProfileBody {
  return { name: `Agent of ${groups.join("+")}`, groups, skills, languages: ["en"], capacity };
}

/** A stored agent document as routing keeps it: available in group "g", English, two e-mail slots, no holds. */
export function storedAgent(id: string, now = Date.now()): AgentDoc {
  return {
    _id: id,
    version: 1,
    name: id,
    groups: ["g"],
    skills: {},
    languages: ["en"],
    capacity: { email: 2 },
    free: { email: 2 },
    holds: {},
    presence: "available",
    presenceChangedAt: now,
    idleSince: now,
    createdAt: now,
    updatedAt: now,
  };
}
