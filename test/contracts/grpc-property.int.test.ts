// The gRPC contract under generated input: every AgentDesk and IntakeService method, called with random
// field values by callers with and without credentials, answers OK or a status that says what was wrong
// (never INTERNAL or UNKNOWN), with the stable code in `steward-error-code` when it refuses.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { AgentDeskClient, type Channel } from "@steward/proto";
import { bearer, generalistAgent, isolatedEnv, tokens } from "@steward/testkit";
import { loadIntakeConfig } from "../../services/intake/src/config.ts";
import { startIntake, type RunningIntake } from "../../services/intake/src/service.ts";
import { IntakeGrpc, protoSubmission } from "../../services/intake/test-support/test-support.ts";
import { loadRoutingConfig } from "../../services/routing/src/config.ts";
import { startRouting, type RunningRouting } from "../../services/routing/src/service.ts";

const SEED = Number(process.env["STEWARD_PROPERTY_SEED"] ?? 20261205);
const RUNS = Number(process.env["STEWARD_PROPERTY_RUNS"] ?? 1500) / 3;

const t = isolatedEnv("grpc-property");
let intake: RunningIntake;
let routing: RunningRouting;
let desk: AgentDeskClient;
let intakeGrpc: IntakeGrpc;

beforeAll(async () => {
  [intake, routing] = await Promise.all([startIntake(loadIntakeConfig(t.env)), startRouting(loadRoutingConfig(t.env))]);
  desk = new AgentDeskClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
  intakeGrpc = new IntakeGrpc(intake.grpcAddress);
  const put = await fetch(`${routing.httpUrl}/v1/agents/ana`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(await bearer(tokens.admin())) },
    body: JSON.stringify(generalistAgent("Ana", ["en"])),
  });
  expect(put.status).toBe(200);
}, 180_000);

afterAll(async () => {
  desk?.close();
  intakeGrpc?.close();
  await Promise.allSettled([intake?.close(), routing?.close()]);
});

const field = fc.oneof(fc.constantFrom("", "ana", "no-such-id", "x".repeat(5_000), "\u0000", "ana\u0007"), fc.string({ maxLength: 40 }));
const callerArb = fc.constantFrom("nobody", "ana", "ben", "admin", "garbage");

async function metadataOf(caller: string): Promise<Metadata> {
  const m = new Metadata();
  if (caller === "ana" || caller === "ben") m.set("authorization", (await bearer(tokens.agent(caller))).authorization);
  if (caller === "admin") m.set("authorization", (await bearer(tokens.admin())).authorization);
  if (caller === "garbage") m.set("authorization", "Bearer not.a.token");
  return m;
}

const BROKEN = new Set([status.INTERNAL, status.UNKNOWN]);

describe("gRPC methods under generated input", () => {
  it("AgentDesk: no INTERNAL or UNKNOWN on any input, a stable code with every refusal", async () => {
    const calls = fc.sample(
      fc.record({
        method: fc.constantFrom("accept", "decline", "resolve", "setPresence", "streamWork"),
        caller: callerArb,
        agentId: field,
        offerId: field,
        ticketId: field,
        reason: field,
        status: fc.oneof(fc.constantFrom("available", "away", "offline"), field),
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const broken: string[] = [];
    for (const c of calls) {
      const m = await metadataOf(c.caller);
      const code = await new Promise<{ code: status; stable: string | undefined }>((resolve) => {
        if (c.method === "streamWork") {
          const call = desk.streamWork({ agentId: c.agentId }, m);
          const timer = setTimeout(() => {
            call.cancel();
            resolve({ code: status.OK, stable: undefined });
          }, 300);
          call.on("data", () => undefined);
          call.on("error", (err: ServiceError) => {
            clearTimeout(timer);
            resolve({ code: err.code === status.CANCELLED ? status.OK : err.code, stable: err.metadata?.get("steward-error-code")[0] as string | undefined });
          });
          return;
        }
        const request = c.method === "setPresence" ? { agentId: c.agentId, status: c.status } : { agentId: c.agentId, offerId: c.offerId, ticketId: c.ticketId, reason: c.reason };
        const fn = (desk[c.method] as (req: unknown, md: Metadata, cb: (err: ServiceError | null) => void) => void).bind(desk);
        fn(request, m, (err) =>
          resolve(err ? { code: err.code, stable: err.metadata?.get("steward-error-code")[0] as string | undefined } : { code: status.OK, stable: undefined }),
        );
      });
      if (BROKEN.has(code.code) || (code.code !== status.OK && code.stable === undefined))
        broken.push(`${c.method} as ${c.caller} ${JSON.stringify(c).slice(0, 200)} -> ${status[code.code]} ${code.stable ?? "(no steward-error-code)"}`);
    }
    process.stdout.write(`[contract] AgentDesk: ${calls.length} generated calls, ${broken.length} broke the contract\n`);
    expect(broken.slice(0, 10)).toEqual([]);
  }, 300_000);

  it("IntakeService: no INTERNAL or UNKNOWN on any submission", async () => {
    const subs = fc.sample(
      fc.record({
        key: fc.constantFrom(undefined, "steward-dev-key", "wrong-key"),
        channel: fc.integer({ min: -1, max: 9 }),
        externalId: field,
        customerId: field,
        body: field,
        subject: field,
        threadId: field,
        ticketId: field,
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const broken: string[] = [];
    for (const s of subs) {
      const out = await intakeGrpc.submit(
        protoSubmission({
          channel: s.channel as Channel,
          externalId: s.externalId,
          body: s.body,
          subject: s.subject,
          threadId: s.threadId,
          ticketId: s.ticketId,
          customer: { id: s.customerId, name: "", email: "", phone: "", tier: "", language: "" },
        }),
        s.key === undefined ? {} : { "x-api-key": s.key },
      );
      if (out.err && BROKEN.has(out.err.code)) broken.push(`${JSON.stringify(s).slice(0, 200)} -> ${status[out.err.code]} ${out.err.details}`);
    }
    process.stdout.write(`[contract] IntakeService: ${subs.length} generated submissions, ${broken.length} broke the contract\n`);
    expect(broken.slice(0, 10)).toEqual([]);
  }, 300_000);
});
