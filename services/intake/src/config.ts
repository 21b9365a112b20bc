// Intake's configuration, parsed once at start. The integrations file (or JSON in the environment) is
// read here too; its secrets are never logged or echoed in errors.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError, boolFlag, commonEnv, loadConfig, port, positiveInt } from "@steward/config";
import { authEnv } from "@steward/auth";
import { parseIntegrations, type Integration, type RateLimit } from "./domain/integrations.ts";

export const intakeEnv = z.object({
  ...commonEnv,
  /** People's tokens (ticket reads by agents, supervisors and admins); see libs/auth. */
  ...authEnv,
  INTAKE_HTTP_HOST: z.string().default("127.0.0.1"),
  INTAKE_HTTP_PORT: port.default(8080),
  /** gRPC IntakeService; bound to INTAKE_GRPC_HOST (loopback by default). */
  INTAKE_GRPC_HOST: z.string().default("127.0.0.1"),
  INTAKE_GRPC_PORT: port.default(50051),
  /** Largest JSON body accepted, bytes. */
  INTAKE_JSON_LIMIT: positiveInt.default(256 * 1024),
  /** Largest raw e-mail (MIME) accepted by POST /v1/inbound/email, bytes. */
  INTAKE_MIME_LIMIT: positiveInt.default(10 * 1024 * 1024),
  /** Largest gRPC message, bytes. */
  INTAKE_GRPC_MESSAGE_LIMIT: positiveInt.default(1024 * 1024),
  /** Most submissions in one SubmitBatch stream. */
  INTAKE_GRPC_BATCH_MAX: positiveInt.default(10_000),
  /** A customer's new message joins their open ticket on the same topic within this window. */
  INTAKE_FOLLOW_UP_WINDOW_HOURS: positiveInt.default(72),
  /**
   * How long a publish waits for Kafka before intake answers 503 (and nothing was accepted). 1.5 s, so the
   * answer (with its store round trips) is out within 2 s: most webhook senders give up at 10 s and retry
   * blindly; a fast 503 with Retry-After tells them when.
   */
  INTAKE_PUBLISH_TIMEOUT_MS: positiveInt.default(1_500),
  /** How long events, and new tickets accepted here, wait before the views they change are written (ADR 0015). */
  INTAKE_VIEW_FLUSH_MS: positiveInt.default(500),
  /** How old an in-memory view a read by id may be answered from (ADR 0015). */
  INTAKE_VIEW_READ_LAG_MS: positiveInt.default(1_000),
  /** JSON file with the integrations (ids, API key hashes, webhook secrets, rate limits). */
  INTAKE_INTEGRATIONS_FILE: z.string().min(1).optional(),
  /** The same JSON inline (for containers); the file wins when both are set. */
  INTAKE_INTEGRATIONS_JSON: z.string().min(1).optional(),
  /**
   * Local development only: with no integrations configured, the documented `dev` integration and its
   * key are active. Off by default, so a production configuration that forgot its integrations file
   * refuses to start instead of taking submissions from anyone who reads the README.
   */
  INTAKE_DEV_MODE: boolFlag.default(false),
  /** Development mode only: requests without credentials act as integration `dev`. */
  INTAKE_ALLOW_ANONYMOUS_DEV: boolFlag.default(false),
  /** Default rate limit of a configured integration without its own, requests per second and burst. */
  INTAKE_RATE_LIMIT_PER_SECOND: positiveInt.default(50),
  INTAKE_RATE_LIMIT_BURST: positiveInt.default(100),
  /** Rate limit of the development integration `dev`: high, so local load tests and benchmarks are not throttled. */
  INTAKE_DEV_RATE_LIMIT_PER_SECOND: positiveInt.default(5_000),
  INTAKE_DEV_RATE_LIMIT_BURST: positiveInt.default(10_000),
  /**
   * The secret customers' e-mail addresses, numbers and handles are hashed with (HMAC-SHA256) before they
   * are stored as keys of their customer record (ADR 0012). Set it in production: with the public default
   * anyone holding the store can test guesses. Changing it forgets every link made before.
   */
  INTAKE_CUSTOMER_KEY_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  /** Signed webhooks: how far the signing time may be from our clock. */
  INTAKE_SIGNATURE_TOLERANCE_SECONDS: positiveInt.default(300),
  /** The outbound worker: pushes notifications and public replies to integrations with an `outboundUrl`. */
  INTAKE_OUTBOUND_ENABLED: boolFlag.default(true),
  /** Attempts per outbound message (the first included) before it goes to steward.outbound.deadletter. */
  INTAKE_OUTBOUND_MAX_ATTEMPTS: positiveInt.default(8),
  /** Wait after the first failed attempt, doubled after each further one up to the maximum. */
  INTAKE_OUTBOUND_RETRY_BASE_MS: positiveInt.default(1_000),
  INTAKE_OUTBOUND_RETRY_MAX_MS: positiveInt.default(300_000),
  /** One webhook request's time limit; below the consumer's 10 s session timeout. */
  INTAKE_OUTBOUND_TIMEOUT_MS: positiveInt.max(8_000).default(5_000),
  /**
   * E-mail replies and notices straight over SMTP (smtp:// or smtps://, credentials in the URL; never
   * logged). Unset: e-mail-channel messages go to the integration's webhook like any other.
   */
  OUTBOUND_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, "must be an smtp:// or smtps:// URL")
    .optional(),
  /** The From of e-mails sent over SMTP; its domain also names their Message-IDs. */
  OUTBOUND_MAIL_FROM: z.string().min(3).default("Steward Support <support@steward.invalid>"),
});

/** Used when INTAKE_CUSTOMER_KEY_SECRET is unset (development); intake warns at start outside development mode. */
export const DEV_CUSTOMER_KEY_SECRET = "steward-development-customer-keys";

export type IntakeConfig = z.infer<typeof intakeEnv> & {
  /** Configured integrations; undefined means development mode (the `dev` integration). */
  integrations: Integration[] | undefined;
  defaultRateLimit: RateLimit;
  devRateLimit: RateLimit;
};

export function loadIntakeConfig(env: Record<string, string | undefined> = process.env): IntakeConfig {
  const base = loadConfig(intakeEnv, env);
  const defaultRateLimit = { perSecond: base.INTAKE_RATE_LIMIT_PER_SECOND, burst: base.INTAKE_RATE_LIMIT_BURST };
  const devRateLimit = { perSecond: base.INTAKE_DEV_RATE_LIMIT_PER_SECOND, burst: base.INTAKE_DEV_RATE_LIMIT_BURST };
  let source: { variable: string; text: string } | undefined;
  if (base.INTAKE_INTEGRATIONS_FILE) {
    try {
      source = { variable: "INTAKE_INTEGRATIONS_FILE", text: readFileSync(base.INTAKE_INTEGRATIONS_FILE, "utf8") };
    } catch (err) {
      throw new ConfigError([`INTAKE_INTEGRATIONS_FILE: cannot read ${base.INTAKE_INTEGRATIONS_FILE} (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
    }
  } else if (base.INTAKE_INTEGRATIONS_JSON) {
    source = { variable: "INTAKE_INTEGRATIONS_JSON", text: base.INTAKE_INTEGRATIONS_JSON };
  }
  if (!source) {
    if (!base.INTAKE_DEV_MODE) {
      throw new ConfigError([
        "no integrations configured: set INTAKE_INTEGRATIONS_FILE (or INTAKE_INTEGRATIONS_JSON) to the channel integrations' API key hashes and webhook secrets (services/intake/README.md); for local development only, INTAKE_DEV_MODE=true enables the `dev` integration",
      ]);
    }
    return { ...base, integrations: undefined, defaultRateLimit, devRateLimit };
  }
  const parsed = parseIntegrations(source.text, defaultRateLimit);
  if (!parsed.ok) throw new ConfigError(parsed.problems.map((p) => `${source.variable}: ${p}`));
  return { ...base, integrations: parsed.integrations, defaultRateLimit, devRateLimit };
}
