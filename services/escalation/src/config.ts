// Escalation's configuration, parsed once at start.
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { commonEnv, loadConfig, port, positiveInt } from "@steward/config";
import { authEnv } from "@steward/auth";

/** The policy shipped with the service, found from this package whatever the working directory. */
export const DEFAULT_POLICY_FILE = fileURLToPath(new URL("../policy/sla-policy.json", import.meta.url));

export const escalationEnv = z.object({
  ...commonEnv,
  ...authEnv,
  ESCALATION_HTTP_HOST: z.string().default("127.0.0.1"),
  ESCALATION_HTTP_PORT: port.default(8083),
  /** The SLA policy document (JSON); `POST /v1/sla/policy/reload` re-reads it. */
  ESCALATION_POLICY_FILE: z.string().min(1).default(DEFAULT_POLICY_FILE),
  /** How often the durable timer looks (in memory) for tickets whose next SLA action is due, ms. */
  ESCALATION_TIMER_POLL_MS: positiveInt.max(60_000).default(250),
  /**
   * How often the timer reads the store for wake-ups this instance did not write (another instance's,
   * or from before a restart), open tickets on an older policy and views left unpublished, ms.
   */
  ESCALATION_TIMER_SWEEP_MS: positiveInt.max(600_000).default(5_000),
  /**
   * How long consumed inputs, decided in memory, wait before the changed SLA documents are written
   * together (and their offsets committed), ms: the most a view or a committed offset lags its input.
   */
  ESCALATION_COALESCE_MS: z.coerce.number().int().min(0).max(1_000).default(500),
  /** How long one instance holds a ticket while it performs its due actions, ms. */
  ESCALATION_LEASE_MS: positiveInt.min(1_000).default(10_000),
  /** How often an instance checks whether another one activated a new policy version, ms. */
  ESCALATION_POLICY_POLL_MS: positiveInt.default(2_000),
});

export type EscalationConfig = z.infer<typeof escalationEnv>;

export function loadEscalationConfig(env: Record<string, string | undefined> = process.env): EscalationConfig {
  return loadConfig(escalationEnv, env);
}
