// The OpenAPI documents are the contract: generated from each running service's own document, thousands
// of valid and invalid requests (by callers with and without the right token) go to the real stack. No
// answer is a 5xx, every status is one the route documents, every JSON body matches the documented
// schema of its status, and a body the document calls invalid is refused with a 4xx.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { bearer, generalistAgent, isolatedEnv, tokens, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "../../services/intake/src/config.ts";
import { startIntake, type RunningIntake } from "../../services/intake/src/service.ts";
import { loadTriageConfig } from "../../services/triage/src/config.ts";
import { startTriage, type RunningTriage } from "../../services/triage/src/service.ts";
import { loadRoutingConfig } from "../../services/routing/src/config.ts";
import { startRouting, type RunningRouting } from "../../services/routing/src/service.ts";
import { loadEscalationConfig } from "../../services/escalation/src/config.ts";
import { startEscalation, type RunningEscalation } from "../../services/escalation/src/service.ts";
import { loadConsoleConfig } from "../../services/console/src/config.ts";
import { startConsole, type RunningConsole } from "../../services/console/src/service.ts";
import { invalid, valid, type Schema } from "./schema-arbitraries.ts";

const SEED = Number(process.env["STEWARD_PROPERTY_SEED"] ?? 20261205);
const RUNS_PER_SERVICE = Number(process.env["STEWARD_PROPERTY_RUNS"] ?? 1500);

const t = isolatedEnv("openapi");
let intake: RunningIntake;
let triage: RunningTriage;
let routing: RunningRouting;
let escalation: RunningEscalation;
let console_: RunningConsole;
let ticketId = "";

interface Operation {
  method: string;
  path: string;
  pathParams: Record<string, Schema>;
  body?: { contentType: string; schema: Schema | undefined };
  responses: Record<string, Schema | undefined>;
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ in: string; name: string; schema?: Schema }>;
        requestBody?: { content?: Record<string, { schema?: Schema }> };
        responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
      }
    >
  >;
}

function operationsOf(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (method === "head") continue;
      const pathParams = Object.fromEntries((op.parameters ?? []).filter((p) => p.in === "path").map((p) => [p.name, p.schema ?? { type: "string" }]));
      const content = op.requestBody?.content ?? {};
      const contentType = Object.keys(content)[0];
      const responses = Object.fromEntries(Object.entries(op.responses ?? {}).map(([code, r]) => [code, r.content?.["application/json"]?.schema]));
      ops.push({ method: method.toUpperCase(), path, pathParams, ...(contentType ? { body: { contentType, schema: content[contentType]?.schema } } : {}), responses });
    }
  }
  return ops;
}

type Caller = "nobody" | "admin" | "agent" | "supervisor" | "integration";
interface GeneratedRequest {
  op: Operation;
  caller: Caller;
  params: Record<string, string>;
  body: { kind: "valid" | "invalid" | "malformed" | "none"; value: unknown };
}

const KNOWN_IDS = () => ["ana", ticketId, "no-such-thing"];
const MIME = ["From: Kim <kim@example.com>", "To: help@example.com", "Subject: Where is my parcel", "Message-ID: <p-1@example.com>", "", "It has not arrived.", ""].join("\r\n");

function requestArbitrary(op: Operation): fc.Arbitrary<GeneratedRequest> {
  const params = fc.record(
    Object.fromEntries(
      Object.entries(op.pathParams).map(([name, schema]) => [
        name,
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...KNOWN_IDS()) },
          { weight: 3, arbitrary: valid(schema).map(String) },
          { weight: 1, arbitrary: fc.constantFrom("x".repeat(600), "bad id", "dots..", "%00", "\u00e9\u00e9") },
        ),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;
  let body: fc.Arbitrary<GeneratedRequest["body"]> = fc.constant({ kind: "none", value: undefined });
  if (op.body?.contentType === "application/json") {
    const bad = invalid(op.body.schema);
    body = fc.oneof(
      { weight: 3, arbitrary: valid(op.body.schema).map((value) => ({ kind: "valid" as const, value })) },
      ...(bad ? [{ weight: 2, arbitrary: bad.map((value) => ({ kind: "invalid" as const, value })) }] : []),
      { weight: 1, arbitrary: fc.constantFrom("{", "[1,", "nul", '{"a":}').map((value) => ({ kind: "malformed" as const, value })) },
    );
  } else if (op.body) {
    body = fc.oneof(
      fc.constant({ kind: "valid" as const, value: MIME }),
      fc.string({ maxLength: 50 }).map((value) => ({ kind: "malformed" as const, value })),
    );
  }
  return fc.record({ op: fc.constant(op), caller: fc.constantFrom<Caller>("nobody", "admin", "agent", "supervisor", "integration"), params, body });
}

async function headersOf(caller: Caller): Promise<Record<string, string>> {
  switch (caller) {
    case "nobody":
      return {};
    case "admin":
      return bearer(tokens.admin());
    case "agent":
      return bearer(tokens.agent("ana"));
    case "supervisor":
      return bearer(tokens.supervisor("sue", generalistAgent("x", ["en"]).groups));
    case "integration":
      return { "x-api-key": "steward-dev-key" };
  }
}

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
addFormats.default(ajv);
const validators = new Map<Schema, ValidateFunction>();
function validatorOf(schema: Schema): ValidateFunction {
  let v = validators.get(schema);
  if (v === undefined) {
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

interface Violation {
  request: string;
  status: number;
  problem: string;
}

async function send(base: string, req: GeneratedRequest): Promise<Violation | undefined> {
  const path = req.op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(req.params[name] ?? ""));
  const headers: Record<string, string> = { ...(await headersOf(req.caller)) };
  let payload: string | undefined;
  if (req.body.kind !== "none" && req.op.body) {
    headers["content-type"] = req.op.body.contentType;
    payload =
      req.body.kind === "valid" || req.body.kind === "invalid"
        ? req.op.body.contentType === "application/json"
          ? JSON.stringify(req.body.value)
          : String(req.body.value)
        : String(req.body.value);
  }
  const describe = `${req.op.method} ${path} as ${req.caller} with ${req.body.kind} body ${payload === undefined ? "" : payload.slice(0, 160)}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method: req.op.method, headers, ...(payload === undefined ? {} : { body: payload }), signal: controller.signal });
  } catch (err) {
    return { request: describe, status: 0, problem: `no answer: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    clearTimeout(timer);
  }
  const status = res.status;
  const documented = Object.hasOwn(req.op.responses, String(status)) || Object.hasOwn(req.op.responses, `${String(status)[0]}XX`) || Object.hasOwn(req.op.responses, "default");
  // A live work stream stays open: its status and headers are the answer.
  if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    controller.abort();
    return documented ? undefined : { request: describe, status, problem: "status not documented" };
  }
  const text = await res.text();
  if (status >= 500) return { request: describe, status, problem: `server error: ${text.slice(0, 200)}` };
  if (!documented) return { request: describe, status, problem: `status not documented (documented: ${Object.keys(req.op.responses).join(", ")}): ${text.slice(0, 200)}` };
  if ((req.body.kind === "invalid" || req.body.kind === "malformed") && status < 400)
    return { request: describe, status, problem: "a body the document calls invalid was accepted" };
  const schema = req.op.responses[String(status)];
  if (schema !== undefined && (res.headers.get("content-type") ?? "").includes("application/json")) {
    const validate = validatorOf(schema);
    const body: unknown = JSON.parse(text);
    if (!validate(body)) return { request: describe, status, problem: `body does not match the documented schema: ${ajv.errorsText(validate.errors)}; ${text.slice(0, 200)}` };
  }
  return undefined;
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
  const put = await fetch(`${routing.httpUrl}/v1/agents/ana`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(await bearer(tokens.admin())) },
    body: JSON.stringify(generalistAgent("Ana", ["en"])),
  });
  expect(put.status).toBe(200);
  const submitted = await fetch(`${intake.httpUrl}/v1/tickets`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel: "email", externalId: "prop-1", customer: { id: "c-prop" }, subject: "Refund", body: "Please refund my order." }),
  });
  ticketId = ((await submitted.json()) as { ticketId: string }).ticketId;
  await waitFor(async () => ((await fetch(`${routing.httpUrl}/v1/tickets/${ticketId}/routing`, { headers: await bearer(tokens.admin()) })).status === 200 ? true : undefined), {
    what: "the ticket routed",
    timeoutMs: 60_000,
  });
}, 180_000);

afterAll(async () => {
  await Promise.allSettled([intake?.close(), triage?.close(), routing?.close(), escalation?.close(), console_?.close()]);
});

describe("generated requests from each service's OpenAPI document", () => {
  for (const name of ["intake", "routing", "escalation", "triage", "console"] as const) {
    it(`${name}: no 5xx, every status documented, every body as documented, invalid bodies refused`, async () => {
      const base = { intake: intake.httpUrl, routing: routing.httpUrl, escalation: escalation.httpUrl, triage: triage.httpUrl, console: console_.httpUrl }[name];
      const doc = (await (await fetch(`${base}/docs/json`)).json()) as OpenApiDoc;
      const ops = operationsOf(doc);
      expect(ops.length).toBeGreaterThan(0);
      const requests = fc.sample(fc.oneof(...ops.map(requestArbitrary)), { seed: SEED, numRuns: RUNS_PER_SERVICE });
      const violations: Violation[] = [];
      // A few at a time, as several clients would.
      for (let i = 0; i < requests.length; i += 8) {
        const results = await Promise.all(requests.slice(i, i + 8).map((r) => send(base, r)));
        for (const v of results) if (v) violations.push(v);
      }
      process.stdout.write(`[contract] ${name}: ${requests.length} generated requests over ${ops.length} operations, ${violations.length} broke the contract\n`);
      expect(violations.slice(0, 15), `${violations.length} of ${requests.length} requests broke the contract (seed ${SEED})`).toEqual([]);
    }, 300_000);
  }
});
