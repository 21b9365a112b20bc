// Routing's configuration, parsed once at start.
import { z } from "zod";
import { commonEnv, loadConfig, port, positiveInt } from "@steward/config";

export const routingEnv = z.object({
  ...commonEnv,
  ROUTING_HTTP_HOST: z.string().default("127.0.0.1"),
  ROUTING_HTTP_PORT: port.default(8081),
  ROUTING_GRPC_PORT: port.default(50052),
  /** Offer timeouts, seconds: chat and phone expect an answer fast, email can wait longer. */
  ROUTING_OFFER_TIMEOUT_REALTIME_S: positiveInt.default(30),
  ROUTING_OFFER_TIMEOUT_ASYNC_S: positiveInt.default(120),
  /** A resolved ticket the customer reopens within this many days returns to its last owner. */
  ROUTING_REOPEN_WINDOW_DAYS: positiveInt.default(7),
});

export type RoutingConfig = z.infer<typeof routingEnv>;

export function loadRoutingConfig(env: Record<string, string | undefined> = process.env): RoutingConfig {
  return loadConfig(routingEnv, env);
}
