// Who may call what, over every HTTP route and gRPC method of every service, on the real broker and
// store: no credentials are 401 (UNAUTHENTICATED), the wrong principal is 403 (PERMISSION_DENIED) and
// changes nothing, the right one works. The table must name every route the services' OpenAPI documents
// list and every method of their gRPC services, so a route added without a row here fails this test (and a
// route added without an access rule fails the services' start).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { AgentDeskClient, AgentDeskService, IntakeServiceService, Topics, type StreamWorkResponse } from "@steward/proto";
import { createKafkaJsBus, type EventBus, type Subscription } from "@steward/messaging";
import { bearer, generalistAgent, isolatedEnv, readSse, testToken, tokens, uniqueName, waitFor, type SseReader } from "@steward/testkit";
import { loadIntakeConfig } from "../../services/intake/src/config.ts";
import { startIntake, type RunningIntake } from "../../services/intake/src/service.ts";
import { hashApiKey } from "../../services/intake/src/domain/integrations.ts";
import { ticketReference } from "../../services/intake/src/domain/acknowledgement.ts";
import { IntakeGrpc, errorCode, protoSubmission } from "../../services/intake/test-support/test-support.ts";
import { loadTriageConfig } from "../../services/triage/src/config.ts";
import { startTriage, type RunningTriage } from "../../services/triage/src/service.ts";
import { loadRoutingConfig } from "../../services/routing/src/config.ts";
import { startRouting, type RunningRouting } from "../../services/routing/src/service.ts";
import { loadEscalationConfig } from "../../services/escalation/src/config.ts";
import { startEscalation, type RunningEscalation } from "../../services/escalation/src/service.ts";
import { loadConsoleConfig } from "../../services/console/src/config.ts";
import { startConsole, type RunningConsole } from "../../services/console/src/service.ts";

const SHOP_KEY = "shop-key-0123456789abcdef";
const OTHER_KEY = "other-key-0123456789abcdef";
const t = isolatedEnv("access", {
  INTAKE_DEV_MODE: "false",
  INTAKE_ALLOW_ANONYMOUS_DEV: "false",
  INTAKE_INTEGRATIONS_JSON: JSON.stringify({
    integrations: [
      { id: "shop", apiKeySha256: [hashApiKey(SHOP_KEY)] },
      { id: "other", apiKeySha256: [hashApiKey(OTHER_KEY)] },
    ],
  }),
});

let intake: RunningIntake;
let triage: RunningTriage;
let routing: RunningRouting;
let escalation: RunningEscalation;
let console_: RunningConsole;
let desk: AgentDeskClient;
let intakeGrpc: IntakeGrpc;
let bus: EventBus;
let auditReader: Subscription;
const audit: Array<{ action: string; principalId: string; roles: string[]; resourceId: string; status: number }> = [];
let anaWork: SseReader;

/** Who calls. */
type Who = "nobody" | { agent: string } | { supervisor: string; groups: () => string[] } | { admin: string } | { integration: string };

async function headersOf(who: Who): Promise<Record<string, string>> {
  if (who === "nobody") return {};
  if ("integration" in who) return { authorization: `Bearer ${who.integration}` };
  if ("agent" in who) return bearer(tokens.agent(who.agent));
  if ("supervisor" in who) return bearer(tokens.supervisor(who.supervisor, who.groups()));
  return bearer(tokens.admin(who.admin));
}

const ana: Who = { agent: "ana" };
const ben: Who = { agent: "ben" };
const admin: Who = { admin: "ada" };
const shop: Who = { integration: SHOP_KEY };
const other: Who = { integration: OTHER_KEY };
/** A supervisor of the first ticket's group, and one of an unrelated group. */
let ticketGroup = "";
const sup: Who = { supervisor: "sue", groups: () => [ticketGroup] };
const stranger: Who = { supervisor: "sid", groups: () => ["no-such-group"] };

async function http(base: string, method: string, path: string, who: Who, body?: unknown, contentType = "application/json"): Promise<number> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": contentType }), ...(await headersOf(who)) },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  await res.text();
  return res.status;
}

/** An SSE route: the status, then the stream is dropped. */
async function sse(base: string, path: string, who: Who): Promise<number> {
  const controller = new AbortController();
  const res = await fetch(`${base}${path}`, { headers: { accept: "text/event-stream", ...(await headersOf(who)) }, signal: controller.signal });
  controller.abort();
  return res.status;
}

async function meta(who: Who): Promise<Metadata> {
  const m = new Metadata();
  const h = await headersOf(who);
  if (h["authorization"]) m.set("authorization", h["authorization"]);
  return m;
}

/** A unary AgentDesk call: OK, or the gRPC status it was refused with. */
async function deskCall(method: "accept" | "decline" | "resolve" | "setPresence" | "reply", request: Record<string, unknown>, who: Who): Promise<status> {
  const m = await meta(who);
  return new Promise((resolve) => {
    const fn = desk[method].bind(desk) as (req: unknown, md: Metadata, cb: (err: ServiceError | null) => void) => void;
    fn(request, m, (err) => resolve(err ? err.code : status.OK));
  });
}

/** StreamWork: OK once the stream delivers an item (ana owns work by then), or the refusal. */
async function streamCall(agentId: string, who: Who): Promise<status> {
  const call = desk.streamWork({ agentId }, await meta(who));
  return new Promise((resolve) => {
    call.on("data", (_: StreamWorkResponse) => {
      call.cancel();
      resolve(status.OK);
    });
    call.on("error", (err: ServiceError) => resolve(err.code === status.CANCELLED ? status.OK : err.code));
  });
}

/** Submits a ticket as the shop and waits for its offer on ana's stream. */
async function offeredTicket(label: string): Promise<{ ticketId: string; offerId: string }> {
  const res = await fetch(`${intake.httpUrl}/v1/tickets`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${SHOP_KEY}` },
    body: JSON.stringify({
      channel: "email",
      externalId: uniqueName(label),
      customer: { id: `cust-${label}` },
      subject: `Refund ${label}`,
      body: `Please refund order ${label}, I was charged twice.`,
    }),
  });
  expect(res.status).toBe(202);
  const { ticketId } = (await res.json()) as { ticketId: string };
  const offer = await anaWork.next((e) => e.event === "offer" && (JSON.parse(e.data) as { ticketId: string }).ticketId === ticketId, 60_000);
  return { ticketId, offerId: (JSON.parse(offer.data) as { offerId: string }).offerId };
}

beforeAll(async () => {
  [intake, triage, routing, escalation] = await Promise.all([
    startIntake(loadIntakeConfig(t.env)),
    startTriage(loadTriageConfig(t.env)),
    startRouting(loadRoutingConfig(t.env)),
    startEscalation(loadEscalationConfig(t.env)),
  ]);
  console_ = await startConsole(
    loadConsoleConfig({ ...t.env, CONSOLE_HTTP_PORT: "0", CONSOLE_INTAKE_URL: intake.httpUrl, CONSOLE_ROUTING_URL: routing.httpUrl, CONSOLE_ESCALATION_URL: escalation.httpUrl }),
  );
  desk = new AgentDeskClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
  intakeGrpc = new IntakeGrpc(intake.grpcAddress);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "access-test", topicPrefix: t.topicPrefix });
  auditReader = await bus.subscribe({
    groupId: uniqueName("audit-reader"),
    topics: [Topics.audit],
    fromBeginning: true,
    handler: async ({ envelope }) => {
      if (envelope.payload?.$case === "auditRecorded") audit.push({ ...envelope.payload.value });
    },
  });
  for (const id of ["ana", "ben"]) {
    expect(await http(routing.httpUrl, "PUT", `/v1/agents/${id}`, admin, generalistAgent(id, ["en"]))).toBe(200);
  }
  anaWork = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, await headersOf(ana));
  expect(await http(routing.httpUrl, "POST", "/v1/agents/ana/presence", ana, { status: "available" })).toBe(200);
}, 180_000);

afterAll(async () => {
  anaWork?.close();
  desk?.close();
  intakeGrpc?.close();
  await auditReader?.stop();
  await bus?.close();
  await Promise.allSettled([intake?.close(), triage?.close(), routing?.close(), escalation?.close(), console_?.close()]);
});

type Case = [Who, number];
interface Row {
  /** "service METHOD /path" as the rules table names it. */
  route: string;
  cases: Case[];
  call: (who: Who) => Promise<number>;
}

/** Runs a row's cases in order, each answer compared with what that caller must get. */
async function check(row: Row): Promise<void> {
  for (const [who, want] of row.cases) {
    const got = await row.call(who);
    expect({ route: row.route, who, status: got }).toEqual({ route: row.route, who, status: want });
  }
}

const covered = new Set<string>();
const coveredGrpc = new Set<string>();

describe("access matrix", () => {
  let first: { ticketId: string; offerId: string };
  let second: { ticketId: string; offerId: string };

  it("gates every route of the agent gateway", async () => {
    first = await offeredTicket("one");
    const view = await fetch(`${routing.httpUrl}/v1/tickets/${first.ticketId}/routing`, { headers: await headersOf(admin) });
    ticketGroup = ((await view.json()) as { group: string }).group;
    expect(ticketGroup).not.toBe("");
    const r = routing.httpUrl;
    const rows: Row[] = [
      {
        route: "routing PUT /v1/agents/{id}",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 403],
          [admin, 200],
        ],
        call: (w) => http(r, "PUT", "/v1/agents/cara", w, generalistAgent("cara", ["en"])),
      },
      {
        route: "routing GET /v1/agents/{id}",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [stranger, 403],
          [ana, 200],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(r, "GET", "/v1/agents/ana", w),
      },
      {
        route: "routing POST /v1/agents/{id}/presence",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [stranger, 403],
          [ben, 200],
          [sup, 200],
        ],
        call: (w) => http(r, "POST", "/v1/agents/ben/presence", w, { status: "offline" }),
      },
      {
        route: "routing GET /v1/agents/{id}/work",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [sup, 403],
          [ana, 200],
        ],
        call: (w) => sse(r, "/v1/agents/ana/work", w),
      },
      {
        route: "routing POST /v1/offers/{offerId}/accept",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [sup, 403],
          [ana, 200],
        ],
        call: (w) => http(r, "POST", `/v1/offers/${encodeURIComponent(first.offerId)}/accept`, w, {}),
      },
      {
        route: "routing GET /v1/tickets/{id}/routing",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [stranger, 403],
          [ana, 200],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(r, "GET", `/v1/tickets/${first.ticketId}/routing`, w),
      },
      // A supervisor or another agent cannot speak to the customer in the owner's name.
      {
        route: "routing POST /v1/tickets/{id}/replies",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [sup, 403],
          [admin, 403],
          [ana, 201],
        ],
        call: (w) => http(r, "POST", `/v1/tickets/${first.ticketId}/replies`, w, { body: "We are on it.", visibility: "public" }),
      },
      {
        route: "routing POST /v1/tickets/{id}/transfer",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [sup, 403],
          [ana, 409],
        ],
        call: (w) => http(r, "POST", `/v1/tickets/${first.ticketId}/transfer`, w, { toAgentId: "ben" }),
      },
      {
        route: "routing GET /v1/routing/status",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(r, "GET", "/v1/routing/status", w),
      },
    ];
    for (const row of rows) {
      await check(row);
      covered.add(row.route);
    }
    // An agent named in the body is still the caller: ben cannot accept ana's offer by saying he is ana.
    second = await offeredTicket("two");
    expect(await http(r, "POST", `/v1/offers/${encodeURIComponent(second.offerId)}/decline`, ben, { agentId: "ana", reason: "not mine" })).toBe(403);
    await check({
      route: "routing POST /v1/offers/{offerId}/decline",
      cases: [
        ["nobody", 401],
        [ben, 403],
        [ana, 200],
      ],
      call: (w) => http(r, "POST", `/v1/offers/${encodeURIComponent(second.offerId)}/decline`, w, { reason: "busy" }),
    });
    covered.add("routing POST /v1/offers/{offerId}/decline");
  }, 180_000);

  it("gates intake's routes: integrations submit, a ticket is read by its integration, people and group", async () => {
    const i = intake.httpUrl;
    await waitFor(
      async () => {
        const res = await fetch(`${i}/v1/tickets/${first.ticketId}`, { headers: await headersOf(admin) });
        return res.status === 200 && ((await res.json()) as { ownerId: string | null }).ownerId === "ana" ? true : undefined;
      },
      { what: "the ticket view showing its owner", timeoutMs: 30_000 },
    );
    const mime = [
      "From: Kim <kim@example.com>",
      "To: help@example.com",
      "Subject: Lost parcel",
      `Message-ID: <${uniqueName("m")}@example.com>`,
      "",
      "Where is my parcel?",
      "",
    ].join("\r\n");
    const rows: Row[] = [
      {
        route: "intake POST /v1/tickets",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [admin, 403],
          [other, 202],
        ],
        call: (w) => http(i, "POST", "/v1/tickets", w, { channel: "api", externalId: uniqueName("m"), customer: { id: "cust-m" }, body: "hello" }),
      },
      {
        route: "intake POST /v1/tickets/{id}/messages",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [other, 403],
          [shop, 202],
        ],
        call: (w) => http(i, "POST", `/v1/tickets/${first.ticketId}/messages`, w, { externalId: uniqueName("f"), from: "customer", body: "any news?" }),
      },
      {
        route: "intake GET /v1/tickets/{id}",
        cases: [
          ["nobody", 401],
          [other, 403],
          [ben, 403],
          [stranger, 403],
          [ana, 200],
          [sup, 200],
          [admin, 200],
          [shop, 200],
        ],
        call: (w) => http(i, "GET", `/v1/tickets/${first.ticketId}`, w),
      },
      {
        route: "intake GET /v1/tickets",
        cases: [
          ["nobody", 401],
          [other, 403],
          [ben, 403],
          [stranger, 403],
          [ana, 200],
          [sup, 200],
          [admin, 200],
          [shop, 200],
        ],
        call: (w) => http(i, "GET", `/v1/tickets?reference=${ticketReference(first.ticketId)}`, w),
      },
      {
        route: "intake POST /v1/inbound/email",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [shop, 202],
        ],
        call: (w) => http(i, "POST", "/v1/inbound/email", w, mime, "message/rfc822"),
      },
    ];
    for (const row of rows) {
      await check(row);
      covered.add(row.route);
    }
  }, 120_000);

  it("joins a named thread only for the same customer or integration; anyone else opens a new ticket", async () => {
    const post = async (key: string, customer: string) => {
      const res = await fetch(`${intake.httpUrl}/v1/tickets`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ channel: "chat", externalId: uniqueName("t"), customer: { id: customer }, body: "it is me again", threadId: first.ticketId }),
      });
      expect(res.status).toBe(202);
      return (await res.json()) as { ticketId: string; followUp: boolean };
    };
    expect(await post(OTHER_KEY, "cust-intruder")).toMatchObject({ followUp: false });
    expect((await post(OTHER_KEY, "cust-one")).ticketId).toBe(first.ticketId);
    expect((await post(SHOP_KEY, "cust-anyone")).ticketId).toBe(first.ticketId);
  });

  it("gates escalation's and triage's routes", async () => {
    const e = escalation.httpUrl;
    await waitFor(async () => ((await http(e, "GET", `/v1/tickets/${first.ticketId}/sla`, admin)) === 200 ? true : undefined), { what: "the ticket's SLA", timeoutMs: 60_000 });
    await waitFor(
      async () => {
        const res = await fetch(`${e}/v1/tickets/${first.ticketId}/sla`, { headers: await headersOf(admin) });
        return ((await res.json()) as { ownerId: string | null }).ownerId === "ana" ? true : undefined;
      },
      { what: "escalation knows the owner" },
    );
    const rows: Row[] = [
      {
        route: "escalation GET /v1/sla/policy",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(e, "GET", "/v1/sla/policy", w),
      },
      {
        route: "escalation POST /v1/sla/policy/reload",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 403],
          [admin, 200],
        ],
        call: (w) => http(e, "POST", "/v1/sla/policy/reload", w),
      },
      {
        route: "escalation GET /v1/tickets/{id}/sla",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [stranger, 403],
          [ana, 200],
          [sup, 200],
        ],
        call: (w) => http(e, "GET", `/v1/tickets/${first.ticketId}/sla`, w),
      },
      {
        route: "escalation POST /v1/tickets/{id}/sla/pause",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [stranger, 403],
          [ana, 200],
        ],
        call: (w) => http(e, "POST", `/v1/tickets/${first.ticketId}/sla/pause`, w),
      },
      {
        route: "escalation POST /v1/tickets/{id}/sla/resume",
        cases: [
          ["nobody", 401],
          [ben, 403],
          [sup, 200],
        ],
        call: (w) => http(e, "POST", `/v1/tickets/${first.ticketId}/sla/resume`, w),
      },
      {
        route: "triage GET /v1/triage/policy",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(triage.httpUrl, "GET", "/v1/triage/policy", w),
      },
    ];
    for (const row of rows) {
      await check(row);
      covered.add(row.route);
    }
    // The policy no longer shows where it is stored on the server.
    const policy = (await (await fetch(`${e}/v1/sla/policy`, { headers: await headersOf(admin) })).json()) as Record<string, unknown>;
    expect(policy).not.toHaveProperty("file");
  }, 120_000);

  it("gates the console's views: people read their own, supervisors their groups', oversight is not for agents", async () => {
    const c = console_.httpUrl;
    // The console's read model follows the events: ana owns the first ticket there too.
    await waitFor(
      async () => {
        const res = await fetch(`${c}/v1/console/tickets/${first.ticketId}`, { headers: await headersOf(admin) });
        return res.ok && ((await res.json()) as { ownerId: string | null }).ownerId === "ana" ? true : undefined;
      },
      { what: "the console shows ana as the owner", timeoutMs: 60_000 },
    );
    const rows: Row[] = [
      {
        route: "console GET /v1/console/me",
        cases: [
          ["nobody", 401],
          [ana, 200],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(c, "GET", "/v1/console/me", w),
      },
      {
        route: "console GET /v1/console/tickets",
        cases: [
          ["nobody", 401],
          [ana, 200],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(c, "GET", "/v1/console/tickets", w),
      },
      // Another agent's ticket, or one outside a supervisor's groups, is not disclosed.
      {
        route: "console GET /v1/console/tickets/{id}",
        cases: [
          ["nobody", 401],
          [ben, 404],
          [stranger, 404],
          [ana, 200],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(c, "GET", `/v1/console/tickets/${first.ticketId}`, w),
      },
      {
        route: "console GET /v1/console/agents",
        cases: [
          ["nobody", 401],
          [ana, 200],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(c, "GET", "/v1/console/agents", w),
      },
      {
        route: "console GET /v1/console/queues",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(c, "GET", "/v1/console/queues", w),
      },
      {
        route: "console GET /v1/console/at-risk",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(c, "GET", "/v1/console/at-risk", w),
      },
      {
        route: "console GET /v1/console/analytics",
        cases: [
          ["nobody", 401],
          [ana, 403],
          [sup, 200],
          [admin, 200],
        ],
        call: (w) => http(c, "GET", "/v1/console/analytics", w),
      },
    ];
    for (const row of rows) {
      await check(row);
      covered.add(row.route);
    }
    const listed = async (who: Who) =>
      ((await (await fetch(`${c}/v1/console/tickets`, { headers: await headersOf(who) })).json()) as { tickets: Array<{ id: string }> }).tickets.map((x) => x.id);
    expect(await listed(ana)).toContain(first.ticketId);
    expect(await listed(ben)).not.toContain(first.ticketId);
    expect(await listed(stranger)).toEqual([]);
    await waitFor(() => audit.find((a) => a.action === "console.tickets.read" && a.principalId === "sue"), { what: "a supervisor's console read on the audit topic" });
    expect(audit.some((a) => a.action === "console.tickets.read" && a.principalId === "ana")).toBe(false);
  }, 120_000);

  it("lets only a supervisor of the ticket's group reassign, with the supervisor named on the audit topic", async () => {
    const r = routing.httpUrl;
    await check({
      route: "routing POST /v1/tickets/{id}/reassign",
      cases: [
        ["nobody", 401],
        [ana, 403],
        [stranger, 403],
        [sup, 200],
      ],
      call: (w) => http(r, "POST", `/v1/tickets/${first.ticketId}/reassign`, w, { toAgentId: "ben", reason: "ana is on leave" }),
    });
    covered.add("routing POST /v1/tickets/{id}/reassign");
    // Ownership moved: now ben resolves, ana may not.
    await check({
      route: "routing POST /v1/tickets/{id}/resolve",
      cases: [
        ["nobody", 401],
        [ana, 403],
        [sup, 403],
        [ben, 200],
      ],
      call: (w) => http(r, "POST", `/v1/tickets/${first.ticketId}/resolve`, w, {}),
    });
    covered.add("routing POST /v1/tickets/{id}/resolve");

    const reassigned = await waitFor(() => audit.find((a) => a.action === "ticket.reassign" && a.status === 200), { what: "the reassignment's audit record" });
    expect(reassigned).toMatchObject({ principalId: "sue", roles: ["supervisor"], resourceId: first.ticketId });
    // Refusals of audited actions are recorded too, naming who tried.
    expect(audit.some((a) => a.action === "ticket.reassign" && a.status === 403 && a.principalId === "sid")).toBe(true);
    await waitFor(() => audit.find((a) => a.action === "sla.pause" && a.principalId === "ana" && a.status === 200), { what: "the SLA pause's audit record" });
    await waitFor(() => audit.find((a) => a.action === "sla.policy.reload" && a.principalId === "ada"), { what: "the reload's audit record" });
    await waitFor(() => audit.find((a) => a.action === "agent.profile.update" && a.principalId === "ada" && a.resourceId === "cara"), {
      what: "the profile change's audit record",
    });
    await waitFor(() => audit.find((a) => a.action === "ticket.read" && a.principalId === "sue"), { what: "a supervisor's read of a ticket" });
    // An agent reading its own ticket is not a privileged read.
    expect(audit.some((a) => a.action === "ticket.read" && a.principalId === "ana")).toBe(false);
  }, 120_000);

  it("gates every AgentDesk and IntakeService method over gRPC the same way", async () => {
    const third = await offeredTicket("three");
    const fourth = await offeredTicket("four");
    const grpcRows: Array<{ method: string; cases: Array<[Who, status]>; call: (w: Who) => Promise<status> }> = [
      {
        method: "AgentDesk.setPresence",
        cases: [
          ["nobody", status.UNAUTHENTICATED],
          [ben, status.PERMISSION_DENIED],
          [ana, status.OK],
        ],
        call: (w) => deskCall("setPresence", { agentId: "ana", status: "available" }, w),
      },
      {
        method: "AgentDesk.streamWork",
        cases: [
          ["nobody", status.UNAUTHENTICATED],
          [ben, status.PERMISSION_DENIED],
          [ana, status.OK],
        ],
        call: (w) => streamCall("ana", w),
      },
      {
        method: "AgentDesk.accept",
        cases: [
          ["nobody", status.UNAUTHENTICATED],
          [ben, status.PERMISSION_DENIED],
          [ana, status.OK],
        ],
        call: (w) => deskCall("accept", { agentId: "", offerId: third.offerId }, w),
      },
      {
        method: "AgentDesk.decline",
        cases: [
          ["nobody", status.UNAUTHENTICATED],
          [ben, status.PERMISSION_DENIED],
          [ana, status.OK],
        ],
        call: (w) => deskCall("decline", { agentId: "", offerId: fourth.offerId, reason: "busy" }, w),
      },
      {
        method: "AgentDesk.reply",
        cases: [
          ["nobody", status.UNAUTHENTICATED],
          [ben, status.PERMISSION_DENIED],
          [ana, status.OK],
        ],
        call: (w) => deskCall("reply", { agentId: "", ticketId: third.ticketId, body: "We are on it.", visibility: "internal", inReplyToMessageId: "" }, w),
      },
      {
        method: "AgentDesk.resolve",
        cases: [
          ["nobody", status.UNAUTHENTICATED],
          [ben, status.PERMISSION_DENIED],
          [ana, status.OK],
        ],
        call: (w) => deskCall("resolve", { agentId: "", ticketId: third.ticketId }, w),
      },
    ];
    for (const row of grpcRows) {
      for (const [who, want] of row.cases) expect({ method: row.method, who, code: await row.call(who) }).toEqual({ method: row.method, who, code: want });
      coveredGrpc.add(row.method);
    }
    // Intake's gRPC takes integrations' API keys only: a person's token is not one.
    const submit = async (headers: Record<string, string>) => {
      const out = await intakeGrpc.submit(protoSubmission({ externalId: uniqueName("g"), body: "via grpc" }), headers);
      return out.err ? out.err.code : status.OK;
    };
    expect(await submit({})).toBe(status.UNAUTHENTICATED);
    expect(await submit(await headersOf(ana))).toBe(status.UNAUTHENTICATED);
    expect(await submit({ "x-api-key": SHOP_KEY })).toBe(status.OK);
    coveredGrpc.add("IntakeService.submit");
    const batch = async (headers: Record<string, string>) => {
      const out = await intakeGrpc.submitBatch([protoSubmission({ externalId: uniqueName("b"), body: "batch" })], headers);
      return out.err ? [out.err.code, errorCode(out.err)] : [status.OK];
    };
    expect((await batch({}))[0]).toBe(status.UNAUTHENTICATED);
    expect(await batch({ "x-api-key": SHOP_KEY })).toEqual([status.OK]);
    coveredGrpc.add("IntakeService.submitBatch");
  }, 180_000);

  it("refuses tokens with the wrong key, expired, for another audience, unsigned or with a shared secret", async () => {
    const url = `${routing.httpUrl}/v1/agents/ana`;
    const refused = async (token: string) => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { error: { code: string; message: string } };
      return [res.status, body.error.code, body.error.message];
    };
    const { createSigningKeySet, signToken } = await import("@steward/auth/dev-keys");
    const foreign = createSigningKeySet();
    expect(await refused(await signToken(foreign.privateJwk, { subject: "ana", roles: ["agent"] }))).toEqual([401, "UNAUTHENTICATED", expect.stringMatching(/key|signature/)]);
    expect(await refused(await testToken({ subject: "ana", roles: ["agent"], ttlS: -120 }))).toEqual([401, "UNAUTHENTICATED", "the token has expired"]);
    expect(await refused(await testToken({ subject: "ana", roles: ["agent"], audience: "someone-else" }))).toEqual([401, "UNAUTHENTICATED", expect.stringMatching(/'aud'/)]);
    expect(await refused(await testToken({ subject: "ana", roles: ["agent"], issuer: "https://evil.example" }))).toEqual([401, "UNAUTHENTICATED", expect.stringMatching(/issuer/)]);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const claims = { sub: "ana", roles: ["agent"], iss: "steward", aud: "steward", exp: Math.floor(Date.now() / 1000) + 600 };
    expect((await refused(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`))[0]).toBe(401);
    const { createHmac } = await import("node:crypto");
    const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
    expect((await refused(`${unsigned}.${createHmac("sha256", "guess").update(unsigned).digest("base64url")}`))[0]).toBe(401);
    expect(await refused(await testToken({ subject: "ana", roles: [] }))).toEqual([401, "UNAUTHENTICATED", expect.stringMatching(/none of Steward's roles/)]);
  });

  it("covers every route the services document and every gRPC method they serve", async () => {
    const documented: string[] = [];
    for (const [name, base] of [
      ["intake", intake.httpUrl],
      ["routing", routing.httpUrl],
      ["escalation", escalation.httpUrl],
      ["triage", triage.httpUrl],
      ["console", console_.httpUrl],
    ] as const) {
      const doc = (await (await fetch(`${base}/docs/json`)).json()) as {
        paths: Record<string, Record<string, { security?: unknown[]; responses?: Record<string, unknown> }>>;
        components?: { securitySchemes?: Record<string, unknown> };
      };
      expect(Object.keys(doc.components?.securitySchemes ?? {})).toContain("bearerToken");
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          if (method === "head") continue;
          documented.push(`${name} ${method.toUpperCase()} ${path}`);
          // The document says how to authenticate and what a refusal looks like.
          expect({
            route: `${name} ${method} ${path}`,
            security: (op.security ?? []).length > 0,
            responses: Object.keys(op.responses ?? {}).filter((c) => c === "401" || c === "403"),
          }).toEqual({ route: `${name} ${method} ${path}`, security: true, responses: ["401", "403"] });
        }
      }
    }
    expect(documented.filter((r) => !covered.has(r))).toEqual([]);
    const methods = [...Object.keys(AgentDeskService).map((m) => `AgentDesk.${m}`), ...Object.keys(IntakeServiceService).map((m) => `IntakeService.${m}`)];
    expect(methods.filter((m) => !coveredGrpc.has(m))).toEqual([]);
  });
});
