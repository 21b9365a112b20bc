// Intake's HTTP API: channel integrations hand over tickets, follow-ups and raw e-mails; a ticket is read
// by those access.ts names (its integration, its people, its group's supervisors, admins). Bodies are read as bytes so UTF-8 is checked strictly and signatures cover exactly
// what was sent; the domain validator decides what is accepted (the JSON schemas document it).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { buildHttpApp, HttpError } from "@steward/http";
import { KafkaUnavailableError } from "@steward/messaging";
import { classifyStoreError } from "@steward/store";
import type { Logger, Registry } from "@steward/telemetry";
import type { IntakePipeline, SubmitResult } from "./intake-pipeline.ts";
import type { TicketDoc } from "./ticket-store.ts";
import type { TicketReader } from "./ticket-views.ts";
import { describeIssues, validateFollowUp, validateSubmission, type SubmissionCheck } from "./domain/submission-validation.ts";
import { emailDraft } from "./domain/email-submission.ts";
import { ticketReference } from "./domain/acknowledgement.ts";
import { httpAuth, integrationOf, integrationPrincipalOf, rawBodies, type HttpAuthDeps } from "./http-auth.ts";
import { INTEGRATION_SECURITY_SCHEMES, SECURITY_SCHEMES, installAccessControl, maybePrincipalOf, type AuditSink, type TokenVerifier } from "@steward/auth";
import { intakeHttpAccess, referenceQueried } from "./access.ts";
import { InvalidEmailError, mimeFromForm, parseRawEmail } from "./inbound-email.ts";
import { acceptedTicket, addMessageBody, createTicketBody, errorResponse, inboundEmailBody, ticketIdParams, ticketsByReference, ticketsFound } from "./http-schemas.ts";

export interface IntakeAppDeps {
  pipeline: IntakePipeline;
  /** Views by id, from memory within the bounded read lag (ADR 0015). */
  store: TicketReader;
  logger?: Logger;
  /** Largest JSON body, bytes. */
  bodyLimit: number;
  /** Largest raw e-mail body, bytes. */
  mimeLimit: number;
  auth: HttpAuthDeps;
  /** People's tokens (ticket reads). */
  verifier: TokenVerifier;
  audit?: AuditSink;
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  metrics?: Registry;
}

const RETRY_AFTER_SECONDS = "5";

/** Infrastructure failures: nothing was accepted; say so and when to retry. Everything else goes on to the error handler. */
export function unavailable(err: unknown): never {
  if (err instanceof KafkaUnavailableError) {
    throw new HttpError(503, "BROKER_UNAVAILABLE", "the event log is unreachable; nothing was accepted, retry later", { headers: { "retry-after": RETRY_AFTER_SECONDS } });
  }
  if (classifyStoreError(err)?.kind === "transient") {
    throw new HttpError(503, "STORE_UNAVAILABLE", "the ticket store is unreachable; nothing was accepted, retry later", { headers: { "retry-after": RETRY_AFTER_SECONDS } });
  }
  throw err;
}

function checked(check: SubmissionCheck) {
  if (!check.ok) throw new HttpError(400, check.code, describeIssues(check.issues), { details: check.issues });
  return check.submission;
}

function accepted(result: SubmitResult) {
  return { ...result, reference: ticketReference(result.ticketId) };
}

/** Strict UTF-8: fastify's own JSON parser would silently replace invalid sequences. */
function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

export async function buildIntakeApp(deps: IntakeAppDeps): Promise<FastifyInstance> {
  const app = await buildHttpApp({
    service: "intake",
    description: "Channel integrations hand tickets, follow-ups and raw e-mails to Steward. See services/intake/README.md for authentication.",
    ...(deps.logger ? { logger: deps.logger } : {}),
    bodyLimit: deps.bodyLimit,
    ready: deps.ready,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    errorStatus: { TICKET_NOT_FOUND: 404 },
    classifyError: classifyStoreError,
    securitySchemes: { ...SECURITY_SCHEMES, ...INTEGRATION_SECURITY_SCHEMES },
  });
  installAccessControl(app, {
    realm: "steward-intake",
    verifier: deps.verifier,
    rules: intakeHttpAccess(
      (id) => deps.store.get(id).catch(unavailable),
      (reference) => deps.store.findByReference(reference).catch(unavailable),
    ),
    integrationOf: integrationPrincipalOf,
    ...(deps.audit ? { audit: deps.audit } : {}),
  });
  const auth = httpAuth(deps.auth);
  const guarded = { onRequest: auth.onRequest, preHandler: auth.preHandler, onResponse: auth.onResponse };
  const submit = (sub: Parameters<IntakePipeline["submit"]>[0]) => deps.pipeline.submit(sub).catch(unavailable);

  // JSON routes: only application/json is parsed; anything else is 415.
  await app.register(async (scope) => {
    const parseJson = scope.getDefaultJsonParser("error", "error");
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
      const bytes = body as Buffer;
      rawBodies.set(req, bytes);
      const text = decodeUtf8(bytes);
      if (text === undefined) {
        done(new HttpError(400, "INVALID_UTF8", "the request body is not valid UTF-8"), undefined);
        return;
      }
      void parseJson(req, text, done);
    });

    scope.post(
      "/v1/tickets",
      {
        schema: {
          summary: "Submit a new ticket (or a follow-up that threads onto one)",
          body: createTicketBody,
          response: {
            202: acceptedTicket,
            400: errorResponse,
            401: errorResponse,
            409: errorResponse,
            413: errorResponse,
            415: errorResponse,
            429: errorResponse,
            503: errorResponse,
          },
        },
        attachValidation: true,
        ...guarded,
      },
      async (req, reply) => {
        const sub = checked(validateSubmission(req.body));
        const result = await submit({ ...sub, integrationId: integrationOf(req).id });
        return reply.code(202).send(accepted(result));
      },
    );

    scope.post<{ Params: { id: string } }>(
      "/v1/tickets/:id/messages",
      {
        schema: {
          summary: "Add a customer follow-up to a ticket",
          params: ticketIdParams,
          body: addMessageBody,
          response: { 202: acceptedTicket, 400: errorResponse, 401: errorResponse, 404: errorResponse, 429: errorResponse, 503: errorResponse },
        },
        attachValidation: true,
        ...guarded,
      },
      async (req, reply) => {
        const ticket = await deps.store.get(req.params.id).catch(unavailable);
        if (!ticket) throw new HttpError(404, "TICKET_NOT_FOUND", `no ticket ${req.params.id}`);
        const sub = checked(validateFollowUp(req.body, { id: ticket._id, channel: ticket.channel, customer: ticket.customer }));
        const result = await submit({ ...sub, integrationId: integrationOf(req).id });
        return reply.code(202).send(accepted(result));
      },
    );

    scope.get<{ Params: { id: string } }>(
      "/v1/tickets/:id",
      { schema: { summary: "A ticket with its conversation, history, triage and SLA clocks", params: ticketIdParams }, onRequest: auth.readerOnRequest },
      async (req) => {
        const ticket = await deps.store.get(req.params.id).catch(unavailable);
        if (!ticket) throw new HttpError(404, "TICKET_NOT_FOUND", `no ticket ${req.params.id}`);
        // Internal notes are for people with tokens: an integration (the customer's side) never sees them.
        return ticketView(ticket, { internalNotes: maybePrincipalOf(req)?.type === "user" });
      },
    );

    scope.get(
      "/v1/tickets",
      {
        schema: { summary: "Find a ticket by the ST-… reference its customer was given", querystring: ticketsByReference, response: { 200: ticketsFound, 400: errorResponse } },
        attachValidation: true,
        onRequest: auth.readerOnRequest,
      },
      async (req) => {
        const reference = referenceQueried(req);
        if (reference === undefined)
          throw new HttpError(400, "VALIDATION_FAILED", "reference: must be a ticket reference such as ST-7K3M-Q9XA", {
            details: [{ field: "reference", message: "must be a ticket reference such as ST-7K3M-Q9XA" }],
          });
        const ticket = await deps.store.findByReference(reference).catch(unavailable);
        return { tickets: ticket ? [ticketView(ticket, { internalNotes: maybePrincipalOf(req)?.type === "user" })] : [] };
      },
    );
  });

  // Raw e-mail: message/rfc822, or a provider's multipart/form-data post with the message in a field.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(["message/rfc822", "multipart/form-data"], { parseAs: "buffer", bodyLimit: deps.mimeLimit }, (req, body, done) => {
      rawBodies.set(req, body as Buffer);
      done(null, body);
    });
    scope.setErrorHandler((err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
        void reply.code(413).send({ error: { code: "PAYLOAD_TOO_LARGE", message: `the message is larger than ${deps.mimeLimit} bytes` } });
        return;
      }
      if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
        void reply
          .code(415)
          .send({ error: { code: "UNSUPPORTED_MEDIA_TYPE", message: "send message/rfc822, or multipart/form-data with the message in an email, mime or body-mime field" } });
        return;
      }
      throw err;
    });

    scope.post(
      "/v1/inbound/email",
      {
        bodyLimit: deps.mimeLimit,
        schema: {
          summary: "Submit a raw e-mail (RFC 5322/MIME); replies thread onto their ticket by In-Reply-To/References",
          consumes: ["message/rfc822", "multipart/form-data"],
          body: inboundEmailBody,
          response: {
            202: acceptedTicket,
            400: errorResponse,
            401: errorResponse,
            409: errorResponse,
            413: errorResponse,
            415: errorResponse,
            429: errorResponse,
            503: errorResponse,
          },
        },
        attachValidation: true,
        ...guarded,
      },
      async (req, reply) => {
        const body = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, "INVALID_EMAIL", "the request has no message");
        const contentType = req.headers["content-type"] ?? "";
        try {
          const raw = /^multipart\/form-data/i.test(contentType) ? await mimeFromForm(body, contentType) : body;
          const mail = await parseRawEmail(raw);
          const draft = emailDraft(mail);
          if (!draft.ok) throw new HttpError(400, draft.code, draft.message);
          const sub = checked(validateSubmission(draft.draft));
          const result = await submit({ ...sub, integrationId: integrationOf(req).id });
          return await reply.code(202).send(accepted(result));
        } catch (err) {
          if (err instanceof InvalidEmailError) throw new HttpError(400, err.code, err.message);
          throw err;
        }
      },
    );
  });

  return app;
}

export function ticketView(t: TicketDoc, opts: { internalNotes?: boolean } = {}) {
  const shown = (m: TicketDoc["messages"][number]) => opts.internalNotes !== false || m.visibility !== "internal";
  const hiddenIds = new Set(t.messages.filter((m) => !shown(m)).map((m) => m.id));
  // Each outbound message's latest delivery status, from the history the projector wrote (in order).
  const deliveries = new Map<string, Record<string, unknown>>();
  for (const h of t.history) {
    if (h.type !== "outbound.delivery" || typeof h.detail?.["deliveryId"] !== "string") continue;
    const { deliveryId, ...rest } = h.detail;
    deliveries.set(deliveryId, { deliveryId, ...rest, at: h.at.toISOString() });
  }
  const deliveryOf = (messageId: string) => [...deliveries.values()].find((d) => d["messageId"] === messageId) ?? null;
  return {
    id: t._id,
    reference: ticketReference(t._id),
    status: t.status,
    channel: t.channel,
    channelRefs: t.channelRefs,
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
    messages: t.messages
      .filter(shown)
      .sort((a, b) => a.sequence - b.sequence)
      .map((m) => ({
        id: m.id,
        externalId: m.externalId,
        channel: m.channel,
        from: m.from,
        body: m.body,
        quotedText: m.quotedText ?? "",
        signature: m.signature ?? "",
        channelRefs: m.channelRefs ?? {},
        sequence: m.sequence,
        at: m.at.toISOString(),
        ...(m.from === "agent"
          ? {
              agentId: m.agentId ?? null,
              visibility: m.visibility ?? "public",
              inReplyToMessageId: m.inReplyToMessageId ?? null,
              ...(m.visibility === "internal" ? {} : { delivery: deliveryOf(m.id) }),
            }
          : {}),
      })),
    outbound: [...deliveries.values()],
    history: t.history
      .filter((h) => !(typeof h.detail?.["messageId"] === "string" && hiddenIds.has(h.detail["messageId"])))
      .map((h) => ({ type: h.type, at: h.at.toISOString(), actor: h.actor ?? null, detail: h.detail ?? {} })),
  };
}
