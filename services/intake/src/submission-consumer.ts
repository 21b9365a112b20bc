// The third way in: external producers publish `Envelope{submission}` to steward.intake.submissions
// (key: external id). Each goes through the same validator and pipeline as HTTP and gRPC. A submission
// that can never be accepted (invalid, unknown integration, unknown ticket) goes straight to the
// dead-letter topic with the reason and the partition moves on; an outage (Kafka, store) is waited
// out here, in order, without dead-lettering anything.
import { Topics } from "@steward/proto";
import { KafkaUnavailableError, type EventBus, type Subscription } from "@steward/messaging";
import { classifyStoreError } from "@steward/store";
import type { Logger } from "@steward/telemetry";
import { TicketNotFoundError, type IntakePipeline } from "./intake-pipeline.ts";
import { DEV_INTEGRATION_ID, type IntegrationRegistry } from "./domain/integrations.ts";
import { SubmissionRejectedError, validateSubmission } from "./domain/submission-validation.ts";
import { draftFromProto } from "./submission-proto.ts";

export const SUBMISSIONS_GROUP = "intake-submissions";

const isOutage = (err: unknown) => err instanceof KafkaUnavailableError || classifyStoreError(err)?.kind === "transient";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startSubmissionConsumer(deps: {
  bus: EventBus;
  pipeline: IntakePipeline;
  registry: IntegrationRegistry;
  log?: Logger;
  groupId?: string;
}): Promise<Subscription> {
  let stopping = false;
  const sub = await deps.bus.subscribe({
    groupId: deps.groupId ?? SUBMISSIONS_GROUP,
    topics: [Topics.submissions],
    // A throw means "this record can never be accepted": straight to dead letters with the reason, no retries.
    maxAttempts: 1,
    handler: async ({ envelope, partition, offset }) => {
      const p = envelope.payload;
      if (p?.$case !== "submission") throw new SubmissionRejectedError("WRONG_PAYLOAD", [{ field: "payload", message: `must be a submission, not ${p?.$case ?? "empty"}` }]);
      const s = p.value;
      const integrationId = s.integrationId || (deps.registry.devMode ? DEV_INTEGRATION_ID : "");
      if (!integrationId)
        throw new SubmissionRejectedError("INTEGRATION_REQUIRED", [{ field: "integrationId", message: "is required (the delivery id is unique per integration)" }]);
      if (!deps.registry.get(integrationId)) throw new SubmissionRejectedError("UNKNOWN_INTEGRATION", [{ field: "integrationId", message: "is not a configured integration" }]);
      const check = validateSubmission(draftFromProto(s));
      if (!check.ok) throw new SubmissionRejectedError(check.code, check.issues);
      for (let attempt = 1; ; attempt += 1) {
        try {
          await deps.pipeline.submit({ ...check.submission, integrationId });
          return;
        } catch (err) {
          if (err instanceof TicketNotFoundError) throw new SubmissionRejectedError(err.code, [{ field: "ticketId", message: "no such ticket" }]);
          // An outage is waited out, in order (the record stays uncommitted and its partition waits);
          // anything else gets a few tries. Stopping ends the wait: see README (a store outage at
          // shutdown is the one case where a valid submission can land in dead letters).
          const retry = isOutage(err) ? !stopping : attempt < 5 && !stopping;
          if (!retry) throw err;
          deps.log?.warn({ err, partition, offset, attempt }, "submission not accepted yet; retrying");
          await sleep(Math.min(200 * 2 ** attempt, 5_000));
        }
      }
    },
  });
  return {
    async stop() {
      stopping = true;
      await sub.stop();
    },
  };
}
