// Routing's configuration, parsed once at start.
import { z } from "zod";
import { commonEnv, loadConfig, port, positiveInt } from "@steward/config";
import { authEnv } from "@steward/auth";

export const routingEnv = z
  .object({
    ...commonEnv,
    ...authEnv,
    ROUTING_HTTP_HOST: z.string().default("127.0.0.1"),
    ROUTING_HTTP_PORT: port.default(8081),
    ROUTING_GRPC_PORT: port.default(50052),
    /** Offer timeouts, seconds: chat and phone expect an answer fast, email can wait longer. */
    ROUTING_OFFER_TIMEOUT_REALTIME_S: positiveInt.default(30),
    ROUTING_OFFER_TIMEOUT_SOCIAL_S: positiveInt.default(60),
    ROUTING_OFFER_TIMEOUT_ASYNC_S: positiveInt.default(120),
    /** How many agents hold an offer for the same ticket at once; the first to accept owns it. */
    ROUTING_MAX_PARALLEL_OFFERS: positiveInt.max(10).default(1),
    /** A resolved ticket the customer reopens within this many days returns to its last owner. */
    ROUTING_REOPEN_WINDOW_DAYS: positiveInt.default(7),
    /** Waiting this long drops a ticket's optional skills; then its overflow group may take it. */
    ROUTING_RELAX_OPTIONAL_SKILLS_AFTER_S: positiveInt.default(120),
    ROUTING_RELAX_OVERFLOW_GROUP_AFTER_S: positiveInt.default(300),
    /** The matcher lease: one instance matches; another takes over this long after it stops renewing. */
    ROUTING_LEASE_MS: positiveInt.min(1_000).default(8_000),
    ROUTING_LEASE_RENEW_MS: positiveInt.min(100).default(2_000),
    /** How often the matcher expires offers and re-routes tickets whose requirements loosened. */
    ROUTING_TICK_MS: positiveInt.min(50).default(500),
    /** How often the matcher republishes events a crashed instance stored but did not publish, and frees leaked capacity. */
    ROUTING_OUTBOX_SWEEP_MS: positiveInt.min(1_000).default(30_000),
    /**
     * A capacity hold no ticket names is a leak (an instance died between its two writes) once it is this old;
     * younger ones may belong to a write still in flight.
     */
    ROUTING_HOLD_GRACE_MS: positiveInt.min(1_000).default(30_000),
    /**
     * An available agent whose last live work stream (SSE or gRPC) to this instance closed is set away after
     * this long, unless a stream opens again first; one that opens later sets them available again.
     */
    ROUTING_DISCONNECT_GRACE_MS: positiveInt.default(30_000),
    /**
     * Where routing's state lives while it decides: "log" (the leader's memory, every change appended to the
     * routing log before it is acted on, the store written behind; ADR 0014) or "store" (every change a
     * conditional write in the store; ADR 0004).
     */
    ROUTING_STATE: z.enum(["log", "store"]).default("log"),
    /**
     * How often the leader writes its changed tickets and agents to the store, with the log offset they
     * reflect: where a take-over starts its replay of the log. Reads on other instances do not wait for it:
     * they bring the stored copy up to date from their tail of the log (ADR 0020); with
     * ROUTING_FOLLOW_HOLD_MS=0 they trail the leader by up to this interval plus one bulk write.
     */
    ROUTING_SNAPSHOT_MS: positiveInt.min(10).default(5_000),
    /**
     * A standby follows the routing log and holds this many milliseconds of its records, so a take-over
     * replays the tail after the snapshot from memory instead of joining a consumer group (6 s measured on a
     * loaded three-broker cluster). 0: a take-over reads the log itself.
     */
    ROUTING_FOLLOW_HOLD_MS: z.coerce.number().int().min(0).default(30_000),
    /** How long the routing log keeps records (a take-over replays it after the last snapshot). */
    ROUTING_LOG_RETENTION_MS: positiveInt.min(3_600_000).default(7 * 86_400_000),
    /** The peer endpoint other instances forward agent commands to (0: any free port); internal network only. */
    ROUTING_PEER_HOST: z.string().optional(),
    ROUTING_PEER_PORT: z.coerce.number().int().min(0).max(65535).default(0),
    /** How the other instances reach this one's peer endpoint (default: the peer host, or the host name when it listens on all interfaces). */
    ROUTING_ADVERTISE_HOST: z.string().optional(),
    /** Shared by all routing instances: authenticates forwarded commands. Required outside development. */
    ROUTING_PEER_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  })
  .refine((c) => c.ROUTING_LEASE_RENEW_MS * 2 < c.ROUTING_LEASE_MS, {
    message: "ROUTING_LEASE_RENEW_MS must be less than half of ROUTING_LEASE_MS, or a slow renewal loses the lease",
    path: ["ROUTING_LEASE_RENEW_MS"],
  })
  .refine((c) => c.ROUTING_FOLLOW_HOLD_MS === 0 || c.ROUTING_FOLLOW_HOLD_MS >= 3 * c.ROUTING_SNAPSHOT_MS, {
    message:
      "ROUTING_FOLLOW_HOLD_MS must be 0 or at least three times ROUTING_SNAPSHOT_MS, or a standby's tail of the log does not reach back to the snapshot when a write of it is late",
    path: ["ROUTING_FOLLOW_HOLD_MS"],
  });

export type RoutingConfig = z.infer<typeof routingEnv>;

/** Used when ROUTING_PEER_SECRET is unset (development); routing warns at start when it is. */
export const DEV_PEER_SECRET = "steward-development-routing-peers";

export function loadRoutingConfig(env: Record<string, string | undefined> = process.env): RoutingConfig {
  return loadConfig(routingEnv, env);
}
