// HTTP authentication of channel integrations, as route hooks: an API key (Authorization: Bearer or
// X-Api-Key) is checked before the body is read; a signed webhook (X-Steward-Integration,
// X-Steward-Timestamp, X-Steward-Signature, optional X-Steward-Delivery) after, over the raw bytes.
// Then the integration's rate limit. Keys, secrets and signatures are never logged.
import type { FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "@steward/http";
import { maybePrincipalOf, type Principal } from "@steward/auth";
import type { Logger } from "@steward/telemetry";
import { bearerToken, type Integration, type IntegrationRegistry } from "./domain/integrations.ts";
import type { TokenBuckets } from "./domain/rate-limiter.ts";
import { verifyWebhookSignature } from "./domain/webhook-signature.ts";
import { WebhookReplays } from "./webhook-replays.ts";

export interface HttpAuthDeps {
  registry: IntegrationRegistry;
  limiter: TokenBuckets;
  replays: WebhookReplays;
  signatureToleranceMs: number;
  now: () => number;
  log?: Logger;
}

interface AuthState {
  integration: Integration;
  pendingSignature: boolean;
  replayKey?: string;
}

const states = new WeakMap<FastifyRequest, AuthState>();
/** The raw request bytes, kept by the content-type parsers for signature checks. */
export const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/** A header that must appear at most once. */
function single(value: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(value)) throw new HttpError(400, "DUPLICATE_HEADER", `send ${name} once`);
  return value;
}

const unauthorized = (code: string, message: string) => new HttpError(401, code, message, { headers: { "www-authenticate": 'Bearer realm="steward-intake"' } });

/** The integration a request was authenticated as (set by the hooks below). */
export function integrationOf(req: FastifyRequest): Integration {
  const state = states.get(req);
  if (!state || state.pendingSignature) throw new Error("request reached its handler without authentication");
  return state.integration;
}

/** The integration a request authenticated as, once its signature (if any) is verified; for the access rules. */
export function integrationPrincipalOf(req: FastifyRequest): Principal | undefined {
  const state = states.get(req);
  return state && !state.pendingSignature ? { type: "integration", id: state.integration.id } : undefined;
}

/** A person's verified token was presented (see @steward/auth): the integration hooks stand aside. */
const personCalling = (req: FastifyRequest): boolean => maybePrincipalOf(req)?.type === "user";

export function httpAuth(deps: HttpAuthDeps) {
  const rateLimit = (integration: Integration): void => {
    const decision = deps.limiter.take(integration.id, integration.rateLimit, deps.now());
    if (!decision.ok) {
      throw new HttpError(429, "RATE_LIMITED", `integration ${integration.id} sends faster than its limit of ${integration.rateLimit.perSecond}/s`, {
        headers: { "retry-after": String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) },
      });
    }
  };

  /** Reads: an integration's API key (or anonymous dev) when no person's token was presented; never rate-limited away from a 401. */
  const readerOnRequest = async (req: FastifyRequest): Promise<void> => {
    if (personCalling(req)) return;
    const authorization = single(req.headers.authorization, "Authorization");
    let apiKey = single(req.headers["x-api-key"], "X-Api-Key");
    if (authorization !== undefined) {
      apiKey = bearerToken(authorization);
      if (apiKey === undefined) throw unauthorized("INVALID_API_KEY", "use Authorization: Bearer <key or token>");
    }
    const auth = deps.registry.authenticate({ apiKey });
    if (!auth.ok)
      throw unauthorized(
        auth.code === "MISSING_CREDENTIALS" ? "UNAUTHENTICATED" : auth.code,
        auth.code === "MISSING_CREDENTIALS" ? "send a person's token or an integration's API key" : auth.message,
      );
    states.set(req, { integration: auth.integration, pendingSignature: false });
  };

  return {
    readerOnRequest,
    onRequest: async (req: FastifyRequest): Promise<void> => {
      if (personCalling(req)) return;
      const signature = single(req.headers["x-steward-signature"], "X-Steward-Signature");
      if (signature !== undefined) {
        const id = single(req.headers["x-steward-integration"], "X-Steward-Integration");
        const integration = id === undefined ? undefined : deps.registry.get(id);
        if (!integration || integration.webhookSecrets.length === 0) {
          throw unauthorized("INVALID_SIGNATURE", "X-Steward-Integration must name an integration with a webhook secret");
        }
        states.set(req, { integration, pendingSignature: true });
        return;
      }
      const authorization = single(req.headers.authorization, "Authorization");
      const apiKeyHeader = single(req.headers["x-api-key"], "X-Api-Key");
      let apiKey = apiKeyHeader;
      if (authorization !== undefined) {
        apiKey = bearerToken(authorization);
        if (apiKey === undefined) throw unauthorized("INVALID_API_KEY", "use Authorization: Bearer <key>");
      }
      const auth = deps.registry.authenticate({ apiKey });
      if (!auth.ok) throw unauthorized(auth.code, auth.message);
      rateLimit(auth.integration);
      states.set(req, { integration: auth.integration, pendingSignature: false });
    },

    preHandler: async (req: FastifyRequest): Promise<void> => {
      const state = states.get(req);
      if (!state?.pendingSignature) return;
      const delivery = single(req.headers["x-steward-delivery"], "X-Steward-Delivery");
      if (delivery !== undefined && (delivery.length === 0 || delivery.length > 256))
        throw new HttpError(400, "INVALID_DELIVERY_ID", "X-Steward-Delivery must be 1-256 characters");
      const check = verifyWebhookSignature(
        {
          timestamp: single(req.headers["x-steward-timestamp"], "X-Steward-Timestamp"),
          signature: single(req.headers["x-steward-signature"], "X-Steward-Signature"),
          deliveryId: delivery,
          rawBody: rawBodies.get(req) ?? Buffer.alloc(0),
        },
        state.integration.webhookSecrets,
        deps.now(),
        deps.signatureToleranceMs,
      );
      if (!check.ok) throw unauthorized(check.code, check.message);
      const replayKey = WebhookReplays.keyOf(state.integration.id, delivery ?? `signature:${check.signature}`);
      if (!(await deps.replays.claim(replayKey, new Date(deps.now())))) {
        throw new HttpError(409, "REPLAYED_DELIVERY", "this signed delivery was received before; it is not processed twice");
      }
      state.replayKey = replayKey;
      state.pendingSignature = false;
      rateLimit(state.integration);
    },

    /** A signed delivery we failed to process (5xx, 429) is released, so the sender's retry is not taken for a replay. */
    onResponse: async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const key = states.get(req)?.replayKey;
      if (key !== undefined && (reply.statusCode >= 500 || reply.statusCode === 429)) {
        await deps.replays.release(key).catch((err: unknown) => deps.log?.warn({ err }, "could not release a signed delivery"));
      }
    },
  };
}
