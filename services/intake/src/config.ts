// Intake's configuration, parsed once at start.
import { z } from "zod";
import { commonEnv, loadConfig, port, positiveInt } from "@steward/config";

export const intakeEnv = z.object({
  ...commonEnv,
  INTAKE_HTTP_HOST: z.string().default("127.0.0.1"),
  INTAKE_HTTP_PORT: port.default(8080),
  INTAKE_GRPC_PORT: port.default(50051),
  /** Largest JSON body accepted, bytes. */
  INTAKE_JSON_LIMIT: positiveInt.default(256 * 1024),
  /** A customer's new message joins their open ticket on the same topic within this window. */
  INTAKE_FOLLOW_UP_WINDOW_HOURS: positiveInt.default(72),
});

export type IntakeConfig = z.infer<typeof intakeEnv>;

export function loadIntakeConfig(env: Record<string, string | undefined> = process.env): IntakeConfig {
  return loadConfig(intakeEnv, env);
}
