// The console's HTTP server: the page (index.html and its assets), the console API over the read models,
// and a proxy that passes `/api/<service>/…` to intake, the agent gateway and escalation with the caller's
// own token, so the page uses only public APIs (live work streams included).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyStatic from "@fastify/static";
import { ERROR_RESPONSE_SCHEMA, buildHttpApp, HttpError, TextRules } from "@steward/http";
import { classifyStoreError } from "@steward/store";
import { SECURITY_SCHEMES, installAccessControl, principalOf, type AuditSink, type TokenVerifier, type UserPrincipal } from "@steward/auth";
import type { Logger, Registry } from "@steward/telemetry";
import {
  TICKET_STATUSES,
  agentSnapshot,
  analytics,
  canSee,
  queueSnapshots,
  scopeOf,
  slaRisk,
  type TicketSearch,
  type TicketStatus,
  type TicketSummary,
  type ViewScope,
} from "./domain/index.ts";
import type { ConsoleStore } from "./console-store.ts";
import { PROXY_METHODS, consoleHttpAccess } from "./access.ts";
import { agentSchema, analyticsSchema, meSchema, queueSchema, ticketSchema } from "./http-schemas.ts";

export interface OidcSignIn {
  issuer: string;
  clientId: string;
  scope: string;
}

export interface ConsoleAppDeps {
  store: ConsoleStore;
  verifier: TokenVerifier;
  upstreams: { intake: string; routing: string; escalation: string };
  webDir: string;
  atRiskWithinMs: number;
  /** Sign-in with an OIDC provider (authorization code with PKCE, in the page); absent: tokens only. */
  oidc?: OidcSignIn;
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  logger?: Logger;
  audit?: AuditSink;
  metrics?: Registry;
  now?: () => Date;
}

const DAY_MS = 24 * 3_600_000;
const SHARED_READ_MS = 1_000;
const id = TextRules.id.schema;
const searchQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    status: { type: "string", enum: [...TICKET_STATUSES] },
    group: TextRules.groupName.schema,
    owner: id,
    reference: { type: "string", pattern: "^[Ss][Tt]-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}$" },
    customer: id,
    limit: { type: "string", pattern: "^[1-9][0-9]{0,2}$", description: "1-500 (default 100)" },
  },
} as const;

/** Response headers of the service behind the proxy that the page needs. */
const PASSED_BACK = ["content-type", "cache-control", "retry-after", "www-authenticate", "allow", "location"];
/** Request headers passed on: the caller's token, the body's type, and where a work stream resumes. */
const PASSED_ON = ["authorization", "content-type", "accept", "last-event-id"];

export async function buildConsoleApp(deps: ConsoleAppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? (() => new Date());
  const app = await buildHttpApp({
    service: "console",
    description: "The agent console and supervisor dashboard: read models of tickets, queues, agents and the last 24 hours, fed by Kafka.",
    ...(deps.logger ? { logger: deps.logger } : {}),
    ready: deps.ready,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    securitySchemes: SECURITY_SCHEMES,
    classifyError: classifyStoreError,
  });
  installAccessControl(app, { realm: "steward-console", verifier: deps.verifier, rules: consoleHttpAccess(), ...(deps.audit ? { audit: deps.audit } : {}) });

  const viewer = (req: FastifyRequest): UserPrincipal => {
    const p = principalOf(req);
    if (p.type !== "user") throw new HttpError(403, "FORBIDDEN", "the console is for people");
    return p;
  };
  const scope = (req: FastifyRequest): ViewScope => scopeOf(viewer(req));
  /** The groups a scope covers for oversight views (null: all). */
  const groupsOf = (s: ViewScope): string[] | null => (s.kind === "all" ? null : s.kind === "groups" ? s.groups : []);
  const withRisk = (t: TicketSummary) => ({ ...t, risk: slaRisk(t, now(), deps.atRiskWithinMs) });
  // Every supervisor's page asks for queues, agents and at-risk every few seconds: they share one read of
  // the open and recent summaries per second, narrowed to each caller's groups in memory.
  let shared: { at: number; tickets: Promise<TicketSummary[]> } | undefined;
  const openAndRecent = async (groups: readonly string[] | null): Promise<TicketSummary[]> => {
    const t = now().getTime();
    if (shared === undefined || t - shared.at > SHARED_READ_MS) {
      const tickets = deps.store.recentAndOpen(null, new Date(t - DAY_MS));
      shared = { at: t, tickets };
      tickets.catch(() => {
        if (shared?.tickets === tickets) shared = undefined;
      });
    }
    const all = await shared.tickets;
    return groups === null ? all : all.filter((x) => groups.includes(x.group));
  };

  app.get("/v1/console/me", { schema: { summary: "Who is signed in, and their own agent snapshot when they are an agent", response: { 200: meSchema } } }, async (req) => {
    const me = viewer(req);
    const record = me.roles.has("agent") ? await deps.store.agent(me.id) : null;
    const tickets = record === null ? [] : await deps.store.searchTickets({ kind: "agent", agentId: me.id }, { limit: 500 });
    return { id: me.id, roles: [...me.roles], groups: [...me.groups], agent: record === null ? null : agentSnapshot(record, tickets, new Date(now().getTime() - DAY_MS)) };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    "/v1/console/tickets",
    {
      schema: {
        summary: "List and search tickets: agents see their own, supervisors their groups', admins all",
        querystring: searchQuery,
        response: { 200: { type: "object", properties: { tickets: { type: "array", items: ticketSchema } } } },
      },
    },
    async (req) => {
      const q = req.query;
      const search: TicketSearch = {
        limit: q["limit"] === undefined ? 100 : Math.min(500, Number(q["limit"])),
        ...(q["status"] ? { status: q["status"] as TicketStatus } : {}),
        ...(q["group"] ? { group: q["group"] } : {}),
        ...(q["owner"] ? { owner: q["owner"] } : {}),
        ...(q["reference"] ? { reference: q["reference"] } : {}),
        ...(q["customer"] ? { customer: q["customer"] } : {}),
      };
      return { tickets: (await deps.store.searchTickets(scope(req), search)).map(withRisk) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/console/tickets/:id",
    {
      schema: {
        summary: "One ticket's summary (status, owner, offers and why, SLA clocks)",
        params: { type: "object", required: ["id"], properties: { id } },
        response: { 200: ticketSchema, 404: { description: "No such ticket, or not one the caller may see", ...ERROR_RESPONSE_SCHEMA } },
      },
    },
    async (req) => {
      const t = await deps.store.ticket(req.params.id);
      // A ticket the caller may not see is answered as missing: its existence is not disclosed.
      if (t === null || !canSee(scope(req), t)) throw new HttpError(404, "TICKET_NOT_FOUND", `no ticket ${req.params.id} for this caller`);
      return withRisk(t);
    },
  );

  app.get(
    "/v1/console/agents",
    {
      schema: {
        summary: "Agents: presence, load per channel, current tickets and declines (24 h); agents see themselves",
        response: { 200: { type: "object", properties: { agents: { type: "array", items: agentSchema } } } },
      },
    },
    async (req) => {
      const s = scope(req);
      const since = new Date(now().getTime() - DAY_MS);
      const records = s.kind === "agent" ? [await deps.store.agent(s.agentId)].filter((a) => a !== null) : await deps.store.agentList(groupsOf(s));
      const tickets = await openAndRecent(null);
      return { agents: records.map((a) => agentSnapshot(a, tickets, since)) };
    },
  );

  app.get(
    "/v1/console/queues",
    {
      schema: {
        summary: "Per group: tickets waiting for an owner, the oldest wait, at risk and breached",
        response: { 200: { type: "object", properties: { at: { type: "string" }, queues: { type: "array", items: queueSchema } } } },
      },
    },
    async (req) => {
      const groups = groupsOf(scope(req));
      const tickets = await openAndRecent(groups);
      return { at: now().toISOString(), queues: queueSnapshots(tickets, now(), deps.atRiskWithinMs, groups ?? []) };
    },
  );

  app.get(
    "/v1/console/at-risk",
    {
      schema: {
        summary: "Open tickets at risk of breaching or breached, most urgent first",
        response: { 200: { type: "object", properties: { tickets: { type: "array", items: ticketSchema } } } },
      },
    },
    async (req) => {
      const tickets = await openAndRecent(groupsOf(scope(req)));
      const risky = tickets.map(withRisk).filter((t) => t.risk !== "ok");
      risky.sort((a, b) => (a.risk === b.risk ? (a.receivedAt ?? "").localeCompare(b.receivedAt ?? "") : a.risk === "breached" ? -1 : 1));
      return { tickets: risky.slice(0, 500) };
    },
  );

  app.get(
    "/v1/console/analytics",
    {
      schema: {
        summary: "The last 24 hours: tickets in, time to first offer and to owner, SLA attainment, repeat contacts, intents, declines",
        response: { 200: analyticsSchema },
      },
    },
    async (req) => {
      return analytics(await openAndRecent(groupsOf(scope(req))), now());
    },
  );

  // How the page signs people in: the provider's endpoints, found by its discovery document (cached once found).
  let discovered: Promise<{ authorizationEndpoint: string; tokenEndpoint: string }> | undefined;
  const discover = (oidc: OidcSignIn) => {
    discovered ??= fetch(`${oidc.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) })
      .then(async (res) => {
        const doc = (await res.json()) as { authorization_endpoint?: string; token_endpoint?: string };
        if (!res.ok || !doc.authorization_endpoint || !doc.token_endpoint) throw new Error("no authorization or token endpoint in the discovery document");
        return { authorizationEndpoint: doc.authorization_endpoint, tokenEndpoint: doc.token_endpoint };
      })
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      });
    return discovered;
  };
  app.get("/sign-in.json", { schema: { hide: true } }, async () => {
    if (deps.oidc === undefined) return { oidc: null };
    try {
      return { oidc: { ...(await discover(deps.oidc)), issuer: deps.oidc.issuer, clientId: deps.oidc.clientId, scope: deps.oidc.scope } };
    } catch {
      throw new HttpError(503, "IDENTITY_PROVIDER_UNAVAILABLE", "the identity provider's discovery document cannot be read; retry shortly", { headers: { "retry-after": "5" } });
    }
  });

  // The page. Without a build, a short page says how to make one rather than a bare 404.
  const indexFile = join(deps.webDir, "index.html");
  app.get("/", { schema: { hide: true } }, async (_req, reply) => {
    const html = existsSync(indexFile)
      ? readFileSync(indexFile, "utf8")
      : "<!doctype html><title>Steward console</title><p>The console page is not built: run <code>npm run build --workspace @steward/console</code>.</p>";
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(html);
  });
  await app.register(fastifyStatic, { root: join(deps.webDir, "assets"), prefix: "/assets/", decorateReply: false, schemaHide: true, maxAge: "1h" });

  // The proxy to the public APIs.
  const upstreamOf = (service: string): string | undefined =>
    service === "intake" ? deps.upstreams.intake : service === "routing" ? deps.upstreams.routing : service === "escalation" ? deps.upstreams.escalation : undefined;
  app.route<{ Params: { service: string; "*": string } }>({
    method: [...PROXY_METHODS],
    url: "/api/:service/*",
    schema: { hide: true },
    handler: async (req, reply) => proxy(req, reply, upstreamOf(req.params.service)),
  });
  return app;
}

async function proxy(req: FastifyRequest<{ Params: { service: string; "*": string } }>, reply: FastifyReply, base: string | undefined): Promise<void> {
  if (base === undefined) throw new HttpError(404, "ROUTE_NOT_FOUND", `no service ${req.params.service}; use intake, routing or escalation`);
  const query = req.url.includes("?") ? req.url.slice(req.url.indexOf("?")) : "";
  const headers: Record<string, string> = {};
  for (const h of PASSED_ON) {
    const v = req.headers[h];
    if (typeof v === "string") headers[h] = v;
  }
  const body = req.body === undefined || req.method === "GET" ? undefined : JSON.stringify(req.body);
  if (body === undefined) delete headers["content-type"];
  const abort = new AbortController();
  // The response closing early means the caller went away (a work stream closed): stop the upstream call.
  // (The request's own "close" fires as soon as its body is read, so it cannot tell.)
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  let res: Response;
  try {
    res = await fetch(`${base}/${req.params["*"]}${query}`, { method: req.method, headers, ...(body === undefined ? {} : { body }), signal: abort.signal, redirect: "manual" });
  } catch {
    throw new HttpError(503, "UPSTREAM_UNAVAILABLE", `${req.params.service} cannot be reached; retry shortly`, { headers: { "retry-after": "2" } });
  }
  const out: Record<string, string> = {};
  for (const h of PASSED_BACK) {
    const v = res.headers.get(h);
    if (v !== null) out[h] = v;
  }
  reply.hijack();
  reply.raw.writeHead(res.status, { ...out, ...(out["content-type"]?.startsWith("text/event-stream") ? { "x-accel-buffering": "no" } : {}) });
  reply.raw.flushHeaders();
  if (res.body === null) {
    reply.raw.end();
    return;
  }
  const stream = Readable.fromWeb(res.body as never);
  stream.on("error", () => reply.raw.destroy());
  stream.pipe(reply.raw);
}
