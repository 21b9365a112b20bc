// The console API's answers as JSON Schema: documented in OpenAPI, and used by fastify to serialise
// (a field missing here would be dropped from the answer, so every field is listed).
const str = { type: "string" } as const;
const nullableStr = { type: ["string", "null"] } as const;
const int = { type: "integer" } as const;
const strings = { type: "array", items: str } as const;

export const ticketSchema = {
  type: "object",
  properties: {
    id: str,
    reference: str,
    status: { type: "string", enum: ["new", "triaged", "waiting", "offered", "assigned", "resolved"] },
    statusAt: str,
    channel: str,
    customerId: str,
    customerName: str,
    subject: str,
    language: { ...str, description: "ISO 639-1: triage's detection, else what the integration said" },
    intent: str,
    priority: str,
    group: str,
    ownerId: nullableStr,
    triageReasons: strings,
    repeatContactCount: int,
    receivedAt: nullableStr,
    firstOfferAt: nullableStr,
    assignedAt: nullableStr,
    resolvedAt: nullableStr,
    offers: {
      type: "array",
      items: { type: "object", properties: { offerId: str, agentId: str, madeAt: str, expiresAt: nullableStr, why: str, outcome: nullableStr } },
    },
    sla: {
      type: ["object", "null"],
      properties: {
        firstResponseDue: nullableStr,
        nextResponseDue: nullableStr,
        resolutionDue: nullableStr,
        paused: { type: "boolean" },
        warnings: strings,
        breaches: strings,
        at: str,
      },
    },
    updatedAt: str,
    risk: { type: "string", enum: ["ok", "at_risk", "breached"] },
  },
} as const;

const agentRecord = {
  id: str,
  name: str,
  groups: strings,
  languages: strings,
  capacity: { type: "object", additionalProperties: int },
  presence: str,
  presenceAt: str,
  profileAt: str,
} as const;

export const agentSchema = {
  type: "object",
  properties: {
    ...agentRecord,
    load: { type: "object", additionalProperties: { type: "object", properties: { owned: int, capacity: int } } },
    currentTickets: strings,
    declines: int,
  },
} as const;

export const meSchema = {
  type: "object",
  properties: { id: str, roles: strings, groups: strings, agent: { ...agentSchema, type: ["object", "null"] } },
} as const;

export const queueSchema = {
  type: "object",
  properties: { group: str, waiting: int, offered: int, oldestWaitMs: int, atRisk: int, breached: int, open: int },
} as const;

const percentiles = { type: "object", properties: { count: int, p50Ms: { type: ["number", "null"] }, p90Ms: { type: ["number", "null"] } } } as const;

export const analyticsSchema = {
  type: "object",
  properties: {
    from: str,
    to: str,
    ticketsIn: int,
    ticketsInByHour: { type: "array", items: { type: "object", properties: { hour: str, count: int } } },
    timeToFirstOffer: percentiles,
    timeToOwner: percentiles,
    slaAttainment: { type: "object", properties: { met: int, breached: int, ratio: { type: ["number", "null"] } } },
    repeatContacts: int,
    topIntents: { type: "array", items: { type: "object", properties: { intent: str, count: int } } },
    declinesPerAgent: { type: "array", items: { type: "object", properties: { agentId: str, declines: int, offers: int } } },
  },
} as const;
