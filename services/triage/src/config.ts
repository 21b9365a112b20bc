// Triage's configuration, parsed once at start.
import { z } from "zod";
import { commonEnv, loadConfig, port } from "@steward/config";
import { authEnv } from "@steward/auth";
import { SHIPPED_MODEL_PATH, SHIPPED_POLICY_PATH } from "./policy/triage-files.ts";

export const triageEnv = z.object({
  ...commonEnv,
  ...authEnv,
  TRIAGE_HTTP_HOST: z.string().default("127.0.0.1"),
  TRIAGE_HTTP_PORT: port.default(8082),
  /** The versioned policy file; edits are picked up without a restart. */
  TRIAGE_POLICY_FILE: z.string().default(SHIPPED_POLICY_PATH),
  TRIAGE_MODEL_FILE: z.string().default(SHIPPED_MODEL_PATH),
  /** A second contact about the same thing within this many days is a repeat contact. */
  TRIAGE_REPEAT_WINDOW_DAYS: z.coerce.number().int().positive().default(7),
});

export type TriageConfig = z.infer<typeof triageEnv>;

export function loadTriageConfig(env: Record<string, string | undefined> = process.env): TriageConfig {
  return loadConfig(triageEnv, env);
}
