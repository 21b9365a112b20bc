// Delivers outbound notifications (acknowledgements, agents' public replies, customer notices) to the
// webhook of the channel integration that submitted the ticket: signed, retried with exponential back-off,
// dead-lettered after the configured attempts, each step published as an OutboundDelivery status that the
// ticket view shows. One ticket's messages arrive in order: a partition's events are handled one after
// another and the consumer does not move past a message that is still being retried.
import { Topics, channelFromProto, type Envelope, type Notification } from "@steward/proto";
import { newEnvelope, type EventBus, type Subscription } from "@steward/messaging";
import type { Logger } from "@steward/telemetry";
import type { Integration } from "./domain/integrations.ts";
import {
  outboundBody,
  outcomeOf,
  resultOfStatus,
  signedHeaders,
  type AttemptOutcome,
  type AttemptResult,
  type DeliveryPolicy,
  type OutboundMessage,
} from "./domain/outbound-delivery.ts";
import type { OutboundDeliveries, OutboundDeliveryDoc } from "./outbound-deliveries.ts";
import type { TicketDoc } from "./ticket-store.ts";
import type { TicketReader } from "./ticket-views.ts";
import { composeEmailReply, type MailSender } from "./outbound-mail.ts";

export interface OutboundWorkerDeps {
  bus: EventBus;
  /**
   * Ticket views. `getCreated` may answer from a copy of any age (what decides where a message goes never
   * changes after the ticket is created); the e-mail path reads the conversation with `get`.
   */
  tickets: Pick<TicketReader, "get"> & { getCreated?(id: string): Promise<TicketDoc | null> };
  deliveries: OutboundDeliveries;
  /** The integration by id (intake's registry). */
  integration(id: string): Integration | undefined;
  policy: DeliveryPolicy;
  requestTimeoutMs: number;
  groupId: string;
  log: Logger;
  now?: () => number;
  /** With OUTBOUND_SMTP_URL: e-mail-channel messages go out over SMTP as RFC 5322 replies, not to the webhook. */
  mail?: { sender: MailSender; from: string };
}

/** The status's integration id for messages sent over SMTP. */
export const SMTP_INTEGRATION_ID = "smtp";

/** Thrown to keep the partition on a message that is waiting for its next attempt (the bus waits and heartbeats). */
export class DeliveryPendingError extends Error {
  readonly code = "DELIVERY_PENDING";
  constructor(deliveryId: string, attempt: number, reason: string) {
    super(`delivery ${deliveryId} failed attempt ${attempt} (${reason}); retrying`);
    this.name = "DeliveryPendingError";
  }
}

export async function startOutboundWorker(deps: OutboundWorkerDeps): Promise<Subscription> {
  const worker = new OutboundWorker(deps);
  return deps.bus.subscribe({
    groupId: deps.groupId,
    topics: [Topics.outbound],
    batchHandler: async (events) => {
      for (const e of events) await worker.handle(e.envelope);
    },
    // Delivery failures are counted and dead-lettered by the worker itself (with a status the ticket
    // shows); the bus only waits between calls, so a message is never skipped while it is retried.
    maxAttempts: Number.MAX_SAFE_INTEGER,
    partitionsConsumedConcurrently: 3,
  });
}

class OutboundWorker {
  readonly #d: OutboundWorkerDeps;
  readonly #now: () => number;
  /** Final statuses published by this process: a retried batch does not publish them again. */
  readonly #announced = new Set<string>();

  constructor(deps: OutboundWorkerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  async handle(envelope: Envelope): Promise<void> {
    if (envelope.payload?.$case !== "notification") return;
    const n = envelope.payload.value;
    // Notices to agents and supervisors (no customer channel) are not the integration's to deliver.
    const channel = channelFromProto(n.channel);
    if (channel === undefined || !envelope.ticketId) return;
    const deliveryId = envelope.eventId;
    // Where it would go first (from memory, usually): a message nobody takes costs no delivery-record read.
    const ticket = await (this.#d.tickets.getCreated ?? this.#d.tickets.get).call(this.#d.tickets, envelope.ticketId);
    const integration = ticket?.integrationId === undefined ? undefined : this.#d.integration(ticket.integrationId);
    const viaMail = this.#d.mail !== undefined && channel === "email" && n.recipient.includes("@") && ticket !== null;
    // Otherwise only integrations with a webhook take pushes (and a ticket unknown here has none).
    if (!viaMail && !integration?.outbound) return;
    const integrationId = viaMail ? SMTP_INTEGRATION_ID : (integration as Integration).id;
    const record = await this.#d.deliveries.get(deliveryId);
    if (record?.status === "delivered" || record?.status === "failed") return this.#announceFinal(envelope, n, record);
    if (record?.status === "retrying" && record.nextAttemptAt !== null && record.nextAttemptAt > this.#now()) {
      throw new DeliveryPendingError(deliveryId, record.attempts, record.reason ?? "");
    }

    const attempt = (record?.attempts ?? 0) + 1;
    const message: OutboundMessage = {
      deliveryId,
      ticketId: envelope.ticketId,
      kind: n.kind,
      channel,
      recipient: n.recipient,
      language: n.language,
      text: n.text,
      reference: n.reference,
      messageId: n.messageId || null,
      inReplyTo: n.inReplyTo || null,
      occurredAt: (envelope.occurredAt ?? new Date(0)).toISOString(),
    };
    await this.#d.deliveries.startAttempt(deliveryId, envelope.ticketId, integrationId, attempt, new Date(this.#now()));
    const result = viaMail ? await this.#mail(ticket, message, envelope.occurredAt ?? new Date(0)) : await this.#post(integration as Integration, message, attempt);
    const outcome = outcomeOf(attempt, result, this.#d.policy, this.#now());
    const at = new Date(this.#now());
    if (outcome.status === "failed") {
      // The dead letter first: once the record says failed, nothing sends this message again.
      await this.#d.bus.publish({ topic: Topics.outboundDeadLetter, envelope });
      this.#d.log.warn({ ticketId: envelope.ticketId, deliveryId, integrationId, attempt, reason: outcome.reason }, "outbound message dead-lettered");
    }
    await this.#d.deliveries.finishAttempt(
      deliveryId,
      outcome.status,
      outcome.status === "delivered" ? null : outcome.reason,
      outcome.status === "retrying" ? outcome.nextAttemptAt : null,
      at,
    );
    await this.#publishStatus(envelope, n, integrationId, outcome);
    if (outcome.status === "retrying") throw new DeliveryPendingError(deliveryId, attempt, outcome.reason);
  }

  async #post(integration: Integration, message: OutboundMessage, attempt: number): Promise<AttemptResult> {
    const outbound = integration.outbound as { url: string; secret: string };
    const body = outboundBody(message);
    try {
      const res = await fetch(outbound.url, {
        method: "POST",
        headers: signedHeaders(outbound.secret, integration.id, message.deliveryId, body, this.#now(), attempt),
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#d.requestTimeoutMs),
      });
      await res.body?.cancel();
      return resultOfStatus(res.status);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { ok: false, reason: cause ?? (err instanceof Error ? err.name : "request failed") };
    }
  }

  async #mail(ticket: TicketDoc, message: OutboundMessage, occurredAt: Date): Promise<AttemptResult> {
    const mail = this.#d.mail as { sender: MailSender; from: string };
    // The customer's message answered carries the thread so far (its References), kept in the reply.
    const conversation = message.inReplyTo === null ? ticket : ((await this.#d.tickets.get(ticket._id)) ?? ticket);
    const answered = message.inReplyTo === null ? undefined : conversation.messages.find((m) => m.channelRefs?.["messageId"] === message.inReplyTo);
    try {
      const raw = await composeEmailReply({
        deliveryId: message.deliveryId,
        ticketId: message.ticketId,
        from: mail.from,
        to: message.recipient,
        subject: ticket.subject,
        reference: message.reference,
        text: message.text,
        inReplyTo: message.inReplyTo,
        references: answered?.channelRefs?.["references"] ?? null,
        occurredAt,
      });
      await mail.sender.send(mail.from, message.recipient, raw);
      return { ok: true };
    } catch (err) {
      const e = err as { responseCode?: number; code?: string };
      return { ok: false, reason: e.responseCode !== undefined ? `SMTP ${e.responseCode}` : (e.code ?? (err instanceof Error ? err.name : "send failed")) };
    }
  }

  async #announceFinal(envelope: Envelope, n: Notification, record: OutboundDeliveryDoc): Promise<void> {
    if (this.#announced.has(record._id)) return;
    // The status may have been lost with the process that wrote the record: publish it again (same id).
    const outcome: AttemptOutcome =
      record.status === "delivered" ? { status: "delivered", attempt: record.attempts } : { status: "failed", attempt: record.attempts, reason: record.reason ?? "" };
    await this.#publishStatus(envelope, n, record.integrationId, outcome);
  }

  async #publishStatus(envelope: Envelope, n: Notification, integrationId: string, outcome: AttemptOutcome): Promise<void> {
    const deliveryId = envelope.eventId;
    await this.#d.bus.publish({
      topic: Topics.outboundDeliveries,
      envelope: newEnvelope(
        "outboundDelivery",
        envelope.ticketId,
        {
          deliveryId,
          integrationId,
          kind: n.kind,
          messageId: n.messageId,
          status: outcome.status,
          attempt: outcome.attempt,
          reason: outcome.status === "delivered" ? "" : outcome.reason,
          nextAttemptAt: outcome.status === "retrying" ? new Date(outcome.nextAttemptAt) : undefined,
        },
        "intake",
        { eventId: `${deliveryId}/delivery/${outcome.status}/${outcome.attempt}`, occurredAt: new Date(this.#now()) },
      ),
    });
    if (outcome.status !== "retrying") this.#announced.add(deliveryId);
  }
}
