// The console's configuration, parsed once at start.
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { commonEnv, loadConfig, port, positiveInt } from "@steward/config";
import { authEnv } from "@steward/auth";

/** Where `npm run build --workspace @steward/console` puts the page, found from this package. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL("../web/dist", import.meta.url));

const upstream = z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as http://127.0.0.1:8080" }).transform((u) => u.replace(/\/+$/, ""));

export const consoleEnv = z.object({
  ...commonEnv,
  ...authEnv,
  CONSOLE_HTTP_HOST: z.string().default("127.0.0.1"),
  CONSOLE_HTTP_PORT: port.default(8084),
  /** The console's own database for its read models (default: MONGODB_DATABASE with a `_console` suffix). */
  CONSOLE_DATABASE: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .optional(),
  /** The public APIs the page calls through `/api/<service>/…`, with the signed-in person's token. */
  CONSOLE_INTAKE_URL: upstream.default("http://127.0.0.1:8080"),
  CONSOLE_ROUTING_URL: upstream.default("http://127.0.0.1:8081"),
  CONSOLE_ESCALATION_URL: upstream.default("http://127.0.0.1:8083"),
  /** The built page (index.html and its assets); a missing folder serves a page saying how to build it. */
  CONSOLE_WEB_DIR: z.string().min(1).default(DEFAULT_WEB_DIR),
  /**
   * Sign-in with the OIDC provider (STEWARD_OIDC_ISSUER): the console's client id there, a public client
   * using the authorization code flow with PKCE and the console's own address as redirect URI.
   */
  CONSOLE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  CONSOLE_OIDC_SCOPE: z.string().min(1).default("openid profile"),
  /** A running deadline this close counts as at risk, ms (escalation's warnings count too). */
  CONSOLE_AT_RISK_WITHIN_MS: positiveInt.default(15 * 60_000),
});

export type ConsoleConfig = z.infer<typeof consoleEnv>;

export function loadConsoleConfig(env: Record<string, string | undefined> = process.env): ConsoleConfig {
  return loadConfig(consoleEnv, env);
}

export function consoleDatabase(config: ConsoleConfig): string {
  return config.CONSOLE_DATABASE ?? `${config.MONGODB_DATABASE}_console`.slice(0, 63);
}
