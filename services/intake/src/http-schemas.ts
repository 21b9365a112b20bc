// JSON schemas of intake's public HTTP contract; fastify validates with them and /docs is built from them.
import { CHANNELS } from "./domain/submission.ts";

const stringMap = { type: "object", additionalProperties: { type: "string", maxLength: 2048 }, maxProperties: 64 } as const;

export const customerSchema = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: {
    id: { type: "string", minLength: 1, maxLength: 256 },
    name: { type: "string", maxLength: 256 },
    email: { type: "string", maxLength: 320 },
    phone: { type: "string", maxLength: 64 },
    tier: { type: "string", enum: ["standard", "vip"] },
    language: { type: "string", pattern: "^[a-z]{2}$" },
  },
} as const;

export const createTicketBody = {
  type: "object",
  required: ["channel", "externalId", "customer", "body"],
  additionalProperties: false,
  properties: {
    channel: { type: "string", enum: [...CHANNELS] },
    externalId: { type: "string", minLength: 1, maxLength: 256, description: "The integration's delivery id; re-sending it never creates a second ticket." },
    customer: customerSchema,
    subject: { type: "string", maxLength: 1000 },
    body: { type: "string", minLength: 1, maxLength: 200_000 },
    threadId: { type: "string", minLength: 1, maxLength: 512 },
    metadata: stringMap,
  },
} as const;

export const acceptedTicket = {
  type: "object",
  properties: {
    ticketId: { type: "string" },
    messageId: { type: "string" },
    duplicate: { type: "boolean" },
    followUp: { type: "boolean" },
  },
} as const;

export const addMessageBody = {
  type: "object",
  required: ["externalId", "from", "body"],
  additionalProperties: false,
  properties: {
    externalId: { type: "string", minLength: 1, maxLength: 256 },
    from: { type: "string", enum: ["customer"] },
    body: { type: "string", minLength: 1, maxLength: 200_000 },
    channel: { type: "string", enum: [...CHANNELS] },
  },
} as const;

export const ticketIdParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 128 } },
} as const;

export const errorResponse = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
    },
  },
} as const;
