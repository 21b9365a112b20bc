// Access control for a fastify app, in one place: every route the service adds must have a rule in its
// table (adding a route without one fails at start), people's tokens are verified before the body is
// read, the rule is decided after the route's own hooks (so intake's signature checks have run), and
// audited routes are recorded with the principal who called them.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler, RouteOptions } from "fastify";
import { HttpError } from "@steward/http";
import { acceptsIntegrations, decide, type AccessRule, type AccessTable } from "./access-rules.ts";
import { hasRole, type Principal } from "./principal.ts";
import { TokenRejectedError, type TokenVerifier } from "./token-verifier.ts";
import type { AuditSink } from "./audit.ts";

export interface HttpAccessOptions {
  /** The service's realm, named in WWW-Authenticate. */
  realm: string;
  rules: AccessTable<FastifyRequest>;
  verifier: TokenVerifier;
  /** The integration a request authenticated as through the service's own hooks (intake only). */
  integrationOf?: (req: FastifyRequest) => Principal | undefined;
  audit?: AuditSink;
  /** Routes outside the table that are open by design (documentation, health, metrics). */
  publicPrefixes?: readonly string[];
}

const DEFAULT_PUBLIC = ["/docs", "/health/", "/metrics"];
const principals = new WeakMap<FastifyRequest, Principal>();
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The bearer token of a request when it is a JWT (intake's API keys are not). */
export function bearerJwt(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== "string") return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] !== undefined && JWT.test(match[1]) ? match[1] : undefined;
}

/** The principal a request was allowed as; handlers take the acting identity from here, never from the body. */
export function principalOf(req: FastifyRequest): Principal {
  const p = principals.get(req);
  if (p === undefined) throw new Error(`${req.method} ${req.routeOptions.url ?? req.url} reached its handler without a principal`);
  return p;
}

/** The principal when the route is public or the caller is not yet known. */
export function maybePrincipalOf(req: FastifyRequest): Principal | undefined {
  return principals.get(req);
}

export function routeKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${url}`;
}

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" }, details: {} } } },
} as const;

/** OpenAPI: the route names its security schemes and documents the 401 and 403 it can answer. */
function documentSecurity(route: RouteOptions, integrations: boolean): void {
  const schema = (route.schema ??= {}) as Record<string, unknown>;
  schema["security"] = integrations ? [{ bearerToken: [] }, { apiKey: [] }, { bearerApiKey: [] }] : [{ bearerToken: [] }];
  const response = (schema["response"] ??= {}) as Record<string, unknown>;
  response["401"] ??= { description: "No credentials, or a token that is expired, malformed or not signed by a trusted issuer", ...errorSchema };
  response["403"] ??= { description: "The caller's roles or groups do not allow this call", ...errorSchema };
}

/** The OpenAPI security schemes the services name (intake adds the integrations' API keys). */
export const SECURITY_SCHEMES = {
  bearerToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "A person's token (agent, supervisor, admin) from the OIDC issuer or the deployment's key set" },
} as const;

export const INTEGRATION_SECURITY_SCHEMES = {
  apiKey: { type: "apiKey", in: "header", name: "X-Api-Key", description: "An integration's API key" },
  bearerApiKey: { type: "http", scheme: "bearer", description: "An integration's API key as Authorization: Bearer <key>" },
} as const;

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * Installs the rules on `app`. Call it right after building the app and before adding routes: the
 * routes added afterwards are each checked against the table.
 */
export function installAccessControl(app: FastifyInstance, opts: HttpAccessOptions): void {
  const publicPrefixes = opts.publicPrefixes ?? DEFAULT_PUBLIC;
  const unauthorized = (message: string) => new HttpError(401, "UNAUTHENTICATED", message, { headers: { "www-authenticate": `Bearer realm="${opts.realm}"` } });

  app.addHook("onRoute", (route: RouteOptions) => {
    const methods = asArray(route.method).filter((m) => m !== "HEAD" && m !== "OPTIONS");
    if (methods.length === 0) return;
    if (publicPrefixes.some((p) => route.url.startsWith(p))) return;
    const rules = methods.map((m) => {
      const rule = opts.rules[routeKey(m, route.url)];
      if (rule === undefined) throw new Error(`route ${routeKey(m, route.url)} has no access rule; add one to the service's access table`);
      return rule;
    });
    const rule = rules[0] as AccessRule<FastifyRequest>;
    if ("public" in rule) return;

    // Tokens first, before the body is read: a refused token costs no parsing.
    const authenticate: onRequestAsyncHookHandler = async (req) => {
      const token = bearerJwt(req);
      if (token !== undefined) {
        try {
          principals.set(req, await opts.verifier.verify(token));
        } catch (err) {
          if (err instanceof TokenRejectedError) throw unauthorized(err.message);
          throw err;
        }
        return;
      }
      // Without a person's token, only routes open to integrations go on (their own hooks decide).
      if (!acceptsIntegrations(rule)) {
        throw unauthorized(req.headers.authorization === undefined ? "this call needs a person's token: Authorization: Bearer <token>" : "the bearer token is not a JWT");
      }
    };
    // Decided last, after the route's own preHandlers (a signed webhook is verified by then).
    const authorize: preHandlerAsyncHookHandler = async (req) => {
      let principal = principals.get(req);
      if (principal === undefined && opts.integrationOf) {
        principal = opts.integrationOf(req);
        if (principal !== undefined) principals.set(req, principal);
      }
      const outcome = await decide(rule, principal, req);
      if (!outcome.ok) {
        if (outcome.status === 401) throw unauthorized(outcome.message);
        throw new HttpError(403, outcome.code, outcome.message);
      }
    };
    documentSecurity(route, acceptsIntegrations(rule));
    route.onRequest = [authenticate, ...asArray(route.onRequest)];
    route.preHandler = [...asArray(route.preHandler), authorize];

    const audit = rule.audit;
    if (audit !== undefined && opts.audit !== undefined) {
      const sink = opts.audit;
      const record = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
        const principal = principals.get(req);
        if (principal === undefined) return;
        if (audit.onlyRoles && !audit.onlyRoles.some((r) => hasRole(principal, r))) return;
        sink.record({ action: audit.action, principal, resource: audit.resource(req), status: reply.statusCode, transport: "http", at: new Date() });
      };
      route.onResponse = [...asArray(route.onResponse), record];
    }
  });
}
