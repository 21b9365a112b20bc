// The gRPC AgentDesk: the same meaning as the gateway's HTTP routes, for desktop and telephony clients.
// Errors map to gRPC status codes with the domain's stable code in the message ("OFFER_CLOSED: ...")
// and in the `steward-error-code` trailer, as intake's gRPC and the access checks do (`steward-code` too,
// the name this desk used first).
import { Metadata, Server, ServerCredentials, status, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { addStandardServices } from "@steward/proto/grpc-standard";
import { classifyStoreError } from "@steward/store";
import { AgentDeskService, channelToProto, priorityToProto, type AgentDeskServer, type StreamWorkResponse } from "@steward/proto";
import { grpcPrincipalOf, secureGrpcService, type GrpcAccessOptions } from "@steward/auth";
import type { WorkItem } from "./work-hub.ts";
import type { ReplyInput, StoredReply } from "./gateway.ts";

/** What the desk needs from routing; the same operations the HTTP routes use. */
export interface DeskOperations {
  accept(offerId: string, agentId: string): Promise<{ ticketId: string }>;
  decline(offerId: string, agentId: string, reason: string): Promise<void>;
  resolve(ticketId: string, agentId: string): Promise<void>;
  setPresence(agentId: string, status: "available" | "away" | "offline"): Promise<boolean>;
  reply(ticketId: string, agentId: string, input: ReplyInput): Promise<StoredReply>;
  /** Open offers and owned tickets, sent first to a (re)connecting agent. */
  openWork(agentId: string): Promise<WorkItem[]>;
  agentExists(agentId: string): Promise<boolean>;
  listen(agentId: string, onItem: (item: WorkItem) => void): () => void;
}

const GRPC_STATUS: Record<string, status> = {
  OFFER_NOT_FOUND: status.NOT_FOUND,
  TICKET_NOT_FOUND: status.NOT_FOUND,
  AGENT_NOT_FOUND: status.NOT_FOUND,
  OFFER_NOT_YOURS: status.PERMISSION_DENIED,
  NOT_OWNER: status.PERMISSION_DENIED,
  OFFER_CLOSED: status.FAILED_PRECONDITION,
  OFFER_EXPIRED: status.FAILED_PRECONDITION,
  OWNERSHIP_CONFLICT: status.ABORTED,
  TICKET_NOT_WAITING: status.FAILED_PRECONDITION,
  TICKET_NOT_OWNED: status.FAILED_PRECONDITION,
  TICKET_NOT_RESOLVED: status.FAILED_PRECONDITION,
  REASON_REQUIRED: status.INVALID_ARGUMENT,
  INVALID_INPUT: status.INVALID_ARGUMENT,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  STORE_CONTENTION: status.UNAVAILABLE,
  LEADER_UNAVAILABLE: status.UNAVAILABLE,
  STORE_UNAVAILABLE: status.UNAVAILABLE,
  STORE_CONFLICT: status.ALREADY_EXISTS,
  STORE_INVALID_DOCUMENT: status.INVALID_ARGUMENT,
  KAFKA_UNAVAILABLE: status.UNAVAILABLE,
};

function toServiceError(thrown: unknown): Partial<ServiceError> {
  const err = classifyStoreError(thrown) ?? thrown;
  const code = typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "INTERNAL";
  const message = err instanceof Error && code !== "INTERNAL" ? err.message : "something went wrong on our side; the call can be retried";
  const metadata = new Metadata();
  metadata.set("steward-error-code", code);
  metadata.set("steward-code", code);
  return { code: GRPC_STATUS[code] ?? status.INTERNAL, details: `${code}: ${message}`, metadata };
}

function invalid(message: string): Partial<ServiceError> {
  return toServiceError(Object.assign(new Error(message), { code: "INVALID_ARGUMENT" }));
}

export function toWorkResponse(item: WorkItem): StreamWorkResponse {
  const channel = item.channel as Parameters<typeof channelToProto>[0] | undefined;
  const priority = item.priority as Parameters<typeof priorityToProto>[0] | undefined;
  return {
    kind: item.kind,
    ticketId: item.ticketId,
    offerId: item.offerId ?? "",
    expiresAt: item.expiresAt ? new Date(item.expiresAt) : undefined,
    channel: channel ? channelToProto(channel) : 0,
    priority: priority ? priorityToProto(priority) : 0,
    subject: item.subject ?? "",
    messageId: item.messageId ?? "",
    detail: item.detail ?? "",
    agentId: item.agentId ?? "",
  };
}

const PRESENCE = new Set(["available", "away", "offline"]);

/** The acting agent: the token's subject (the rules have checked that a named agent_id is the same). */
const actingAgent = (call: object, named: string): string => named || grpcPrincipalOf(call).id;

// A server stream ends with an error status by emitting "error" (grpc-js then sends the status); destroy()
// would drop the stream without one and leave the client waiting.
export function agentDeskImplementation(ops: DeskOperations): AgentDeskServer {
  return {
    streamWork: (call) => {
      const agentId = actingAgent(call, call.request.agentId);
      void (async () => {
        if (!agentId) return void call.emit("error", invalid("agent_id is required"));
        if (!(await ops.agentExists(agentId))) return void call.emit("error", toServiceError(Object.assign(new Error(`no agent ${agentId}`), { code: "AGENT_NOT_FOUND" })));
        const unlisten = ops.listen(agentId, (item) => call.write(toWorkResponse(item)));
        call.on("cancelled", unlisten);
        call.on("close", unlisten);
        for (const item of await ops.openWork(agentId)) call.write(toWorkResponse(item));
      })().catch((err: unknown) => call.emit("error", toServiceError(err)));
    },
    accept: (call, callback) => {
      const { offerId } = call.request;
      const agentId = actingAgent(call, call.request.agentId);
      if (!offerId) return callback(invalid("offer_id is required"));
      ops.accept(offerId, agentId).then(
        (r) => callback(null, { ticketId: r.ticketId }),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
    decline: (call, callback) => {
      const { offerId, reason } = call.request;
      const agentId = actingAgent(call, call.request.agentId);
      if (!offerId) return callback(invalid("offer_id is required"));
      ops.decline(offerId, agentId, reason).then(
        () => callback(null, {}),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
    resolve: (call, callback) => {
      const { ticketId } = call.request;
      const agentId = actingAgent(call, call.request.agentId);
      if (!ticketId) return callback(invalid("ticket_id is required"));
      ops.resolve(ticketId, agentId).then(
        () => callback(null, {}),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
    reply: (call, callback) => {
      const { ticketId, body, visibility, inReplyToMessageId, clientMessageId } = call.request;
      const agentId = actingAgent(call, call.request.agentId);
      if (!ticketId) return callback(invalid("ticket_id is required"));
      if (visibility !== "public" && visibility !== "internal") return callback(invalid("a visibility of public or internal is required"));
      ops.reply(ticketId, agentId, { body, visibility, ...(inReplyToMessageId ? { inReplyToMessageId } : {}), ...(clientMessageId ? { clientMessageId } : {}) }).then(
        (r) => callback(null, { messageId: r.messageId, at: new Date(r.at), visibility: r.visibility }),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
    setPresence: (call, callback) => {
      const { status: presence } = call.request;
      const agentId = actingAgent(call, call.request.agentId);
      if (!PRESENCE.has(presence)) return callback(invalid("a status of available, away or offline is required"));
      ops.setPresence(agentId, presence as "available" | "away" | "offline").then(
        (found) => (found ? callback(null, {}) : callback(toServiceError(Object.assign(new Error(`no agent ${agentId}`), { code: "AGENT_NOT_FOUND" })))),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
  };
}

/** Binds the AgentDesk, every method behind its access rule, with reflection and health (SERVING while `ready`), on host:port (0 = any free port). */
export async function startAgentDeskServer<Req>(
  ops: DeskOperations,
  host: string,
  port: number,
  access: GrpcAccessOptions<Req>,
  ready: () => Promise<boolean>,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = new Server();
  server.addService(AgentDeskService, secureGrpcService(AgentDeskService, agentDeskImplementation(ops) as unknown as UntypedServiceImplementation, access));
  const standard = addStandardServices(server, { services: ["steward.v1.AgentDesk"], ready });
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        standard.stop();
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 3_000).unref();
      }),
  };
}
