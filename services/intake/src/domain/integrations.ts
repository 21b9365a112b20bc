// Who may hand tickets to intake: channel integrations with API keys (kept only as SHA-256 hashes),
// webhook signing secrets and a rate limit each. Without a configuration intake runs in development
// mode with one documented integration, `dev`, and its well-known key.
import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export interface RateLimit {
  /** Tokens added per second. */
  perSecond: number;
  /** Bucket size: the largest burst accepted at once. */
  burst: number;
}

export interface Integration {
  id: string;
  /** SHA-256 hex digests of the integration's API keys (several while a key is rotated). */
  apiKeyHashes: readonly string[];
  /** HMAC-SHA256 secrets for signed webhooks (several while a secret is rotated). */
  webhookSecrets: readonly string[];
  rateLimit: RateLimit;
  /** Where Steward pushes this integration's outbound messages (replies, notices), signed with `outboundSecret`. */
  outbound?: { url: string; secret: string };
}

export const DEV_INTEGRATION_ID = "dev";
/** The development key, documented in services/intake/README.md; active only without an integrations configuration. */
export const DEV_API_KEY = "steward-dev-key";
/** The development webhook secret, same rules as the key. */
export const DEV_WEBHOOK_SECRET = "steward-dev-webhook-secret";

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

const integrationSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1-64 characters of a-z 0-9 _ - (starting with a letter or digit)"),
    apiKeySha256: z.array(z.string().regex(/^[0-9a-fA-F]{64}$/, "must be a SHA-256 digest: 64 hex characters")).default([]),
    webhookSecrets: z.array(z.string().min(16, "must be at least 16 characters")).default([]),
    rateLimit: z
      .object({ perSecond: z.number().positive().max(100_000), burst: z.number().int().positive().max(1_000_000) })
      .strict()
      .optional(),
    outboundUrl: z
      .string()
      .url("must be an absolute http(s) URL")
      .refine((u) => /^https?:\/\//i.test(u), "must be an http(s) URL")
      .optional(),
    outboundSecret: z.string().min(16, "must be at least 16 characters").optional(),
  })
  .strict()
  .refine((i) => i.apiKeySha256.length + i.webhookSecrets.length > 0, { message: "needs at least one apiKeySha256 or webhookSecrets entry" })
  // Steward never pushes unsigned: a receiver could not tell our deliveries from anyone's.
  .refine((i) => (i.outboundUrl === undefined) === (i.outboundSecret === undefined), { message: "outboundUrl and outboundSecret go together", path: ["outboundSecret"] });

const fileSchema = z.object({ integrations: z.array(integrationSchema).min(1) }).strict();

export type IntegrationsParse = { ok: true; integrations: Integration[] } | { ok: false; problems: string[] };

/**
 * Parses the integrations file:
 * `{ "integrations": [{ "id": "helpdesk", "apiKeySha256": ["<hex>"], "webhookSecrets": ["..."], "rateLimit": { "perSecond": 20, "burst": 40 },
 *   "outboundUrl": "https://helpdesk.example/steward", "outboundSecret": "..." }] }`.
 * Problems name the path and the rule, never a secret.
 */
export function parseIntegrations(jsonText: string, defaultRateLimit: RateLimit): IntegrationsParse {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch {
    return { ok: false, problems: ["is not valid JSON"] };
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`) };
  }
  const problems: string[] = [];
  const ids = new Set<string>();
  const hashes = new Set<string>();
  const integrations = parsed.data.integrations.map((i, index) => {
    if (ids.has(i.id)) problems.push(`integrations.${index}.id: "${i.id}" appears twice`);
    ids.add(i.id);
    const keyHashes = i.apiKeySha256.map((h) => h.toLowerCase());
    for (const h of keyHashes) {
      if (hashes.has(h)) problems.push(`integrations.${index}.apiKeySha256: a key hash is used twice`);
      hashes.add(h);
    }
    return {
      id: i.id,
      apiKeyHashes: keyHashes,
      webhookSecrets: i.webhookSecrets,
      rateLimit: i.rateLimit ?? defaultRateLimit,
      ...(i.outboundUrl !== undefined && i.outboundSecret !== undefined ? { outbound: { url: i.outboundUrl, secret: i.outboundSecret } } : {}),
    };
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, integrations };
}

export type Credentials = { apiKey?: string | undefined };

export type Authentication = { ok: true; integration: Integration; anonymous: boolean } | { ok: false; code: "MISSING_CREDENTIALS" | "INVALID_API_KEY"; message: string };

/** "Bearer abc" -> "abc"; undefined for other schemes. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1];
}

export class IntegrationRegistry {
  /** True when no integrations were configured: the dev integration and its key are active. */
  readonly devMode: boolean;
  /** Dev mode only: requests without credentials are taken as the dev integration. */
  readonly anonymousAllowed: boolean;
  private readonly byId: Map<string, Integration>;
  private readonly byKeyHash: Map<string, Integration>;

  constructor(opts: { integrations?: Integration[]; devRateLimit: RateLimit; allowAnonymousDev: boolean }) {
    this.devMode = opts.integrations === undefined;
    const list = opts.integrations ?? [{ id: DEV_INTEGRATION_ID, apiKeyHashes: [hashApiKey(DEV_API_KEY)], webhookSecrets: [DEV_WEBHOOK_SECRET], rateLimit: opts.devRateLimit }];
    this.anonymousAllowed = this.devMode && opts.allowAnonymousDev;
    this.byId = new Map(list.map((i) => [i.id, i]));
    this.byKeyHash = new Map(list.flatMap((i) => i.apiKeyHashes.map((h) => [h, i] as const)));
  }

  get(id: string): Integration | undefined {
    return this.byId.get(id);
  }

  /** The integration an API key belongs to. Keys are compared as SHA-256 digests, in constant time. */
  byApiKey(key: string): Integration | undefined {
    const digest = hashApiKey(key);
    const found = this.byKeyHash.get(digest);
    if (!found) return undefined;
    // The map lookup already matched the digest; the constant-time check keeps the final comparison
    // free of early exits should the lookup ever change to a scan.
    const stored = found.apiKeyHashes.find((h) => h.length === digest.length && timingSafeEqual(Buffer.from(h), Buffer.from(digest)));
    return stored ? found : undefined;
  }

  /** Resolves the integration behind a request's API key, or the anonymous dev integration. */
  authenticate(creds: Credentials): Authentication {
    if (creds.apiKey !== undefined) {
      const integration = this.byApiKey(creds.apiKey);
      return integration ? { ok: true, integration, anonymous: false } : { ok: false, code: "INVALID_API_KEY", message: "the API key is not valid" };
    }
    const dev = this.anonymousAllowed ? this.byId.get(DEV_INTEGRATION_ID) : undefined;
    if (dev) return { ok: true, integration: dev, anonymous: true };
    return { ok: false, code: "MISSING_CREDENTIALS", message: "send an API key (Authorization: Bearer <key> or X-Api-Key) or a signed webhook" };
  }
}
