// JSON schemas of intake's public HTTP contract, for /docs. The domain validator
// (domain/submission-validation.ts) is what decides; these mirror its limits.
import { TextRules } from "@steward/http";
import { CHANNELS } from "./domain/submission.ts";
import { SUBMISSION_LIMITS as L } from "./domain/submission-validation.ts";

const stringMap = (description: string) =>
  ({
    type: "object",
    description,
    propertyNames: { pattern: "^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$" },
    additionalProperties: { type: "string", maxLength: L.mapValue },
    maxProperties: L.mapEntries,
  }) as const;

const channelRefs = stringMap(
  "The channel's own identifiers, kept with the ticket. email: messageId, inReplyTo, references (replies thread by them). " +
    "phone: kind (call | callback | voicemail); a callback needs callbackNumber (or customer.phone) and may give preferredTime (ISO 8601 with zone, or asap); " +
    "a voicemail may give recordingUrl (https) and durationSeconds. chat, social, web, api: free-form ids (conversationId, postId, url...).",
);

export const customerSchema = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: {
    id: { type: "string", minLength: 1, maxLength: L.customerId },
    name: TextRules.name.schema,
    email: { type: "string", maxLength: L.customerEmail },
    phone: { type: "string", maxLength: L.customerPhone },
    tier: { type: "string", enum: ["standard", "vip"] },
    language: TextRules.language.schema,
  },
} as const;

export const createTicketBody = {
  type: "object",
  required: ["channel", "externalId", "customer", "body"],
  additionalProperties: false,
  properties: {
    channel: { type: "string", enum: [...CHANNELS] },
    externalId: { type: "string", minLength: 1, maxLength: L.externalId, description: "The integration's delivery id; re-sending it never creates a second ticket." },
    customer: customerSchema,
    subject: TextRules.freeText(L.subject).schema,
    body: { type: "string", minLength: 1, maxLength: L.body, description: "For e-mail, quoted history and the signature are split off and kept apart." },
    threadId: { type: "string", minLength: 1, maxLength: L.threadId },
    metadata: stringMap("Free-form string values kept with the ticket."),
    channelRefs,
  },
} as const;

export const acceptedTicket = {
  type: "object",
  properties: {
    ticketId: { type: "string" },
    messageId: { type: "string" },
    duplicate: { type: "boolean", description: "True when this delivery id was accepted before; the original ids are returned." },
    followUp: { type: "boolean" },
    reference: { type: "string", description: "A short reference for people (e.g. ST-7K3M-Q9XA), derived from the ticket id." },
  },
} as const;

export const addMessageBody = {
  type: "object",
  required: ["externalId", "from", "body"],
  additionalProperties: false,
  properties: {
    externalId: { type: "string", minLength: 1, maxLength: L.externalId },
    from: { type: "string", enum: ["customer"] },
    body: { type: "string", minLength: 1, maxLength: L.body },
    channel: { type: "string", enum: [...CHANNELS] },
    channelRefs,
  },
} as const;

export const inboundEmailBody = {
  type: "string",
  format: "binary",
  description: "The message as sent (message/rfc822), or multipart/form-data with it in a field named email, mime or body-mime.",
} as const;

export const ticketIdParams = {
  type: "object",
  required: ["id"],
  properties: { id: TextRules.id.schema },
} as const;

export const ticketsByReference = {
  type: "object",
  required: ["reference"],
  properties: {
    reference: {
      type: "string",
      pattern: "^[Ss][Tt]-[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{4}-[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{4}$",
      description: "The reference in acknowledgements and 202 answers, e.g. ST-7K3M-Q9XA (any case)",
    },
  },
} as const;

export const ticketsFound = {
  type: "object",
  required: ["tickets"],
  description: "The ticket with that reference as GET /v1/tickets/{id} shows it, or none",
  properties: { tickets: { type: "array", maxItems: 1, items: { type: "object", additionalProperties: true } } },
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
