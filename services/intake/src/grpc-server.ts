// gRPC IntakeService: unary Submit, and SubmitBatch (client stream) for bulk imports. Same
// authentication (API key in metadata), validator and pipeline as HTTP. Errors carry a gRPC status and
// a stable code, in the `steward-error-code` metadata and at the start of the message.
import { Metadata, Server, ServerCredentials, status, type ServerErrorResponse, type StatusObject } from "@grpc/grpc-js";
import { IntakeServiceService, type BatchItemError, type IntakeServiceServer, type Submission, type SubmitResponse } from "@steward/proto";
import { KafkaUnavailableError } from "@steward/messaging";
import { classifyStoreError } from "@steward/store";
import type { Logger } from "@steward/telemetry";
import type { IntakePipeline } from "./intake-pipeline.ts";
import { TicketNotFoundError } from "./intake-pipeline.ts";
import type { Integration, IntegrationRegistry } from "./domain/integrations.ts";
import type { TokenBuckets } from "./domain/rate-limiter.ts";
import { SubmissionRejectedError, describeIssues, validateSubmission } from "./domain/submission-validation.ts";
import { draftFromProto } from "./submission-proto.ts";

export interface GrpcDeps {
  pipeline: IntakePipeline;
  registry: IntegrationRegistry;
  limiter: TokenBuckets;
  now: () => number;
  log?: Logger;
  messageLimit: number;
  batchMax: number;
  /** Submissions of one batch processed at once (one customer's stay in order). */
  batchConcurrency?: number;
}

interface Failure {
  grpc: status;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

class IntegrationMismatchError extends Error {
  readonly code = "INTEGRATION_MISMATCH";
}

function failureOf(err: unknown, log: Logger | undefined): Failure {
  if (err instanceof SubmissionRejectedError) return { grpc: status.INVALID_ARGUMENT, code: err.code, message: describeIssues(err.issues) };
  if (err instanceof IntegrationMismatchError)
    return { grpc: status.PERMISSION_DENIED, code: err.code, message: "submission.integrationId differs from the authenticated integration" };
  if (err instanceof TicketNotFoundError) return { grpc: status.NOT_FOUND, code: err.code, message: err.message };
  if (err instanceof KafkaUnavailableError)
    return { grpc: status.UNAVAILABLE, code: "BROKER_UNAVAILABLE", message: "the event log is unreachable; nothing was accepted, retry later", retryAfterSeconds: 5 };
  if (classifyStoreError(err)?.kind === "transient")
    return { grpc: status.UNAVAILABLE, code: "STORE_UNAVAILABLE", message: "the ticket store is unreachable; nothing was accepted, retry later", retryAfterSeconds: 5 };
  log?.error({ err }, "grpc submission failed");
  return { grpc: status.INTERNAL, code: "INTERNAL", message: "something went wrong on our side; the submission can be retried" };
}

function toServiceError(f: Failure): ServerErrorResponse | Partial<StatusObject> {
  const metadata = new Metadata();
  metadata.set("steward-error-code", f.code);
  if (f.retryAfterSeconds !== undefined) metadata.set("retry-after", String(f.retryAfterSeconds));
  return { code: f.grpc, details: `${f.code}: ${f.message}`, metadata };
}

function firstString(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  if (values.length > 1) return "";
  const v = values[0];
  return typeof v === "string" ? v : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function buildIntakeGrpcServer(deps: GrpcDeps): Server {
  const concurrency = deps.batchConcurrency ?? 16;

  /** The calling integration, from `authorization: Bearer <key>` or `x-api-key` metadata. */
  const authenticate = (metadata: Metadata): { ok: true; integration: Integration } | { ok: false; failure: Failure } => {
    const authorization = firstString(metadata, "authorization");
    let apiKey = firstString(metadata, "x-api-key");
    if (authorization !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!m) return { ok: false, failure: { grpc: status.UNAUTHENTICATED, code: "INVALID_API_KEY", message: "use authorization: Bearer <key>" } };
      apiKey = m[1];
    }
    const auth = deps.registry.authenticate({ apiKey });
    if (!auth.ok) return { ok: false, failure: { grpc: status.UNAUTHENTICATED, code: auth.code, message: auth.message } };
    return { ok: true, integration: auth.integration };
  };

  const submitOne = async (sub: Submission | undefined, integration: Integration): Promise<SubmitResponse> => {
    if (!sub) throw new SubmissionRejectedError("VALIDATION_FAILED", [{ field: "submission", message: "is required" }]);
    if (sub.integrationId !== "" && sub.integrationId !== integration.id) throw new IntegrationMismatchError("integration mismatch");
    const check = validateSubmission(draftFromProto(sub));
    if (!check.ok) throw new SubmissionRejectedError(check.code, check.issues);
    const r = await deps.pipeline.submit({ ...check.submission, integrationId: integration.id });
    return { ticketId: r.ticketId, duplicate: r.duplicate, followUp: r.followUp, messageId: r.messageId, index: 0 };
  };

  const impl: IntakeServiceServer = {
    submit(call, callback) {
      const auth = authenticate(call.metadata);
      if (!auth.ok) {
        callback(toServiceError(auth.failure));
        return;
      }
      const { integration } = auth;
      const rate = deps.limiter.take(integration.id, integration.rateLimit, deps.now());
      if (!rate.ok) {
        callback(
          toServiceError({
            grpc: status.RESOURCE_EXHAUSTED,
            code: "RATE_LIMITED",
            message: `integration ${integration.id} sends faster than its limit`,
            retryAfterSeconds: Math.max(1, Math.ceil(rate.retryAfterMs / 1000)),
          }),
        );
        return;
      }
      submitOne(call.request.submission, integration).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(failureOf(err, deps.log))),
      );
    },

    submitBatch(call, callback) {
      const auth = authenticate(call.metadata);
      if (!auth.ok) {
        callback(toServiceError(auth.failure));
        return;
      }
      const { integration } = auth;
      const results: SubmitResponse[] = [];
      const errors: BatchItemError[] = [];
      // One customer's submissions run in order (a follow-up after its ticket); others in parallel.
      const lanes = new Map<string, Promise<void>>();
      const inFlight = new Set<Promise<void>>();
      const run = async () => {
        let index = 0;
        let tooMany = false;
        for await (const item of call as AsyncIterable<{ submission: Submission | undefined }>) {
          if (index >= deps.batchMax) {
            // Read to the end (breaking off would cancel the call before it is answered), process nothing more.
            tooMany = true;
            continue;
          }
          const i = index;
          index += 1;
          // Bulk imports wait for their rate limit instead of failing: the stream is paused meanwhile.
          for (;;) {
            const rate = deps.limiter.take(integration.id, integration.rateLimit, deps.now());
            if (rate.ok) break;
            await sleep(Math.min(rate.retryAfterMs, 1000));
          }
          while (inFlight.size >= concurrency) await Promise.race(inFlight);
          const lane = item.submission?.customer?.id ?? "";
          const task = (lanes.get(lane) ?? Promise.resolve()).then(async () => {
            try {
              results.push({ ...(await submitOne(item.submission, integration)), index: i });
            } catch (err) {
              const f = failureOf(err, deps.log);
              errors.push({ index: i, code: f.code, message: f.message });
            }
          });
          lanes.set(lane, task);
          inFlight.add(task);
          void task.finally(() => {
            inFlight.delete(task);
            if (lanes.get(lane) === task) lanes.delete(lane);
          });
        }
        await Promise.all(inFlight);
        if (tooMany) {
          callback(
            toServiceError({
              grpc: status.RESOURCE_EXHAUSTED,
              code: "BATCH_TOO_LARGE",
              message: `at most ${deps.batchMax} submissions per batch; the first ${deps.batchMax} were processed (re-sending them is safe)`,
            }),
          );
          return;
        }
        results.sort((a, b) => a.index - b.index);
        errors.sort((a, b) => a.index - b.index);
        callback(null, { accepted: results.filter((r) => !r.duplicate).length, duplicates: results.filter((r) => r.duplicate).length, results, errors });
      };
      run().catch((err: unknown) => {
        // The client went away mid-stream: what was processed stays accepted; nobody is left to answer.
        deps.log?.warn({ err }, "batch stream ended early");
        callback(toServiceError({ grpc: status.CANCELLED, code: "STREAM_FAILED", message: "the request stream failed" }));
      });
    },
  };

  const server = new Server({ "grpc.max_receive_message_length": deps.messageLimit });
  server.addService(IntakeServiceService, impl);
  return server;
}

/** Binds host:port (port 0: any free port) and resolves the bound port. */
export function bindGrpc(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

export function closeGrpc(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
