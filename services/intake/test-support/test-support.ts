// Helpers for intake's integration tests: a reader that collects events from topics, a promisified
// gRPC client, signed webhook requests, and a ticket.received as intake publishes it.
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { Channel, IntakeServiceClient, type Submission, type SubmitBatchResponse, type SubmitResponse, type TopicName } from "@steward/proto";
import { newEnvelope, type EventBus, type IncomingEvent } from "@steward/messaging";
import { signWebhook } from "../src/domain/webhook-signature.ts";

export class EventLog {
  readonly events: IncomingEvent[] = [];

  static async start(bus: EventBus, groupId: string, topics: TopicName[]): Promise<EventLog> {
    const log = new EventLog();
    await bus.subscribe({ groupId, topics, handler: async (e) => void log.events.push(e) });
    return log;
  }

  on(topic: TopicName): IncomingEvent[] {
    return this.events.filter((e) => e.topic === topic);
  }

  ofTicket(ticketId: string, topic?: TopicName): IncomingEvent[] {
    return this.events.filter((e) => e.envelope.ticketId === ticketId && (topic === undefined || e.topic === topic));
  }
}

export function grpcMetadata(headers: Record<string, string>): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(headers)) m.set(k, v);
  return m;
}

export interface GrpcOutcome<T> {
  res?: T;
  err?: ServiceError;
}

export class IntakeGrpc {
  readonly client: IntakeServiceClient;
  constructor(address: string) {
    this.client = new IntakeServiceClient(address, credentials.createInsecure());
  }

  submit(submission: Submission | undefined, headers: Record<string, string> = {}): Promise<GrpcOutcome<SubmitResponse>> {
    return new Promise((resolve) => {
      this.client.submit(submission === undefined ? ({} as never) : { submission }, grpcMetadata(headers), (err, res) => resolve(err ? { err } : { res }));
    });
  }

  submitBatch(submissions: Submission[], headers: Record<string, string> = {}): Promise<GrpcOutcome<SubmitBatchResponse>> {
    return new Promise((resolve) => {
      const stream = this.client.submitBatch(grpcMetadata(headers), (err, res) => resolve(err ? { err } : { res }));
      for (const submission of submissions) stream.write({ submission });
      stream.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

export function errorCode(err: ServiceError | undefined): string | undefined {
  const v = err?.metadata.get("steward-error-code")[0];
  return typeof v === "string" ? v : undefined;
}

/** A proto Submission with the defaults proto3 would decode. */
export function protoSubmission(s: Partial<Submission> & Pick<Submission, "externalId" | "body">): Submission {
  return {
    channel: 2,
    customer: { id: "c-grpc", name: "", email: "", phone: "", tier: "", language: "" },
    subject: "",
    threadId: "",
    metadata: {},
    channelRefs: {},
    ticketId: "",
    integrationId: "",
    ...s,
  };
}

/** Headers of a signed webhook delivery. */
export function signedHeaders(opts: { integration: string; secret: string; body: string | Buffer; timestamp?: number; delivery?: string }): Record<string, string> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    "x-steward-integration": opts.integration,
    "x-steward-timestamp": String(timestamp),
    "x-steward-signature": signWebhook(opts.secret, timestamp, opts.body, opts.delivery ?? ""),
    ...(opts.delivery !== undefined ? { "x-steward-delivery": opts.delivery } : {}),
  };
}

export async function postJson(baseUrl: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A ticket.received as intake publishes it (e-mail, customer c-wb), for tests that feed the projector directly. */
export const ticketReceivedEvent = (ticketId: string, externalId: string) =>
  newEnvelope(
    "ticketReceived",
    ticketId,
    {
      channel: Channel.EMAIL,
      externalId,
      customer: { id: "c-wb", name: "", email: "wb@example.com", phone: "", tier: "standard", language: "" },
      subject: "Charged twice",
      body: "My card was charged twice.",
      quotedText: "",
      signature: "",
      threadId: "",
      metadata: {},
      channelRefs: {},
      messageId: `${ticketId}-m1`,
      integrationId: "dev",
    },
    "intake",
  );
