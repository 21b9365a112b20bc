// Authentication of integrations with an integrations configuration (production mode): API keys,
// signed webhooks with a time window and replay protection, per-integration rate limits, and the
// delivery id being unique per integration. Over the real broker and store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import { Channel } from "@steward/proto";
import { isolatedEnv } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { DEV_API_KEY, hashApiKey } from "./domain/integrations.ts";
import { IntakeGrpc, errorCode, postJson, protoSubmission, signedHeaders, sleep } from "../test-support/test-support.ts";

const HELPDESK_KEY = "hd-test-key-9f8e7d6c5b4a";
const SHOP_KEY = "shop-test-key-1a2b3c4d5e6f";
const MAILER_SECRET = "mailer-webhook-secret-0123456789";

const t = isolatedEnv("intake-auth", {
  INTAKE_INTEGRATIONS_JSON: JSON.stringify({
    integrations: [
      { id: "helpdesk", apiKeySha256: [hashApiKey(HELPDESK_KEY)] },
      { id: "shop", apiKeySha256: [hashApiKey(SHOP_KEY)], rateLimit: { perSecond: 1, burst: 2 } },
      { id: "mailer", webhookSecrets: [MAILER_SECRET], rateLimit: { perSecond: 1, burst: 1 } },
    ],
  }),
});
let intake: RunningIntake;
let grpc: IntakeGrpc;

beforeAll(async () => {
  intake = await startIntake(loadIntakeConfig(t.env));
  grpc = new IntakeGrpc(intake.grpcAddress);
});

afterAll(async () => {
  grpc?.close();
  await intake?.close();
});

const ticket = (externalId: string, customerId = "c-auth") => ({ channel: "api", externalId, customer: { id: customerId }, body: `message ${externalId}` });
const errorOf = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];

describe("API keys", () => {
  it("accepts a configured key as Bearer token or X-Api-Key", async () => {
    expect((await postJson(intake.httpUrl, "/v1/tickets", ticket("k-1"), { authorization: `Bearer ${HELPDESK_KEY}` })).status).toBe(202);
    expect((await postJson(intake.httpUrl, "/v1/tickets", ticket("k-2"), { "x-api-key": HELPDESK_KEY })).status).toBe(202);
  });

  it("refuses missing, wrong and development keys with 401 before reading the body", async () => {
    const missing = await postJson(intake.httpUrl, "/v1/tickets", ticket("k-3"));
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    expect(await errorOf(missing)).toEqual([401, "MISSING_CREDENTIALS"]);
    expect(await errorOf(await postJson(intake.httpUrl, "/v1/tickets", ticket("k-4"), { authorization: "Bearer nope" }))).toEqual([401, "INVALID_API_KEY"]);
    expect(await errorOf(await postJson(intake.httpUrl, "/v1/tickets", ticket("k-5"), { authorization: `Basic ${HELPDESK_KEY}` }))).toEqual([401, "INVALID_API_KEY"]);
    expect(await errorOf(await postJson(intake.httpUrl, "/v1/tickets", ticket("k-6"), { "x-api-key": DEV_API_KEY }))).toEqual([401, "INVALID_API_KEY"]);
    // An unauthenticated request is refused even when its body is broken: the body is never parsed.
    expect(await errorOf(await postJson(intake.httpUrl, "/v1/tickets", "{broken"))).toEqual([401, "MISSING_CREDENTIALS"]);
    expect(await errorOf(await postJson(intake.httpUrl, "/v1/tickets/x/messages", { externalId: "m", from: "customer", body: "b" }))).toEqual([401, "MISSING_CREDENTIALS"]);
  });

  it("keeps delivery ids per integration: the same id from two integrations is two tickets", async () => {
    const a = (await (await postJson(intake.httpUrl, "/v1/tickets", ticket("shared-1", "c-a"), { "x-api-key": HELPDESK_KEY })).json()) as { ticketId: string; duplicate: boolean };
    const b = (await (await postJson(intake.httpUrl, "/v1/tickets", ticket("shared-1", "c-b"), { "x-api-key": SHOP_KEY })).json()) as { ticketId: string; duplicate: boolean };
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(false);
    expect(a.ticketId).not.toBe(b.ticketId);
  });

  it("authenticates gRPC calls from metadata", async () => {
    const none = await grpc.submit(protoSubmission({ channel: Channel.API, externalId: "g-1", body: "hi" }));
    expect(none.err?.code).toBe(status.UNAUTHENTICATED);
    expect(errorCode(none.err)).toBe("MISSING_CREDENTIALS");
    const ok = await grpc.submit(protoSubmission({ channel: Channel.API, externalId: "g-2", body: "hi" }), { authorization: `Bearer ${HELPDESK_KEY}` });
    expect(ok.err).toBeUndefined();
    const batch = await grpc.submitBatch([protoSubmission({ externalId: "g-3", body: "hi" })], { "x-api-key": "wrong" });
    expect(batch.err?.code).toBe(status.UNAUTHENTICATED);
  });
});

describe("rate limits", () => {
  it("answers 429 RATE_LIMITED with Retry-After once an integration exceeds its limit, and lets it in again later", async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 4; i += 1) {
      const res = await postJson(intake.httpUrl, "/v1/tickets", ticket(`rl-${i}`, `c-rl-${i}`), { "x-api-key": SHOP_KEY });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(1);
    expect(statuses).toContain(429);
    expect(limited?.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(((await limited?.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    // Other integrations are not affected.
    expect((await postJson(intake.httpUrl, "/v1/tickets", ticket("rl-other"), { "x-api-key": HELPDESK_KEY })).status).toBe(202);
    const gr = await grpc.submit(protoSubmission({ externalId: "rl-grpc", body: "hi" }), { "x-api-key": SHOP_KEY });
    expect(gr.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(errorCode(gr.err)).toBe("RATE_LIMITED");
    expect(gr.err?.metadata.get("retry-after")[0]).toMatch(/^[1-9]\d*$/);
    await sleep(Number(limited?.headers.get("retry-after") ?? "1") * 1000 + 200);
    expect((await postJson(intake.httpUrl, "/v1/tickets", ticket("rl-later", "c-rl-later"), { "x-api-key": SHOP_KEY })).status).toBe(202);
  });
});

describe("signed webhooks", () => {
  const send = (body: string, headers: Record<string, string>) => postJson(intake.httpUrl, "/v1/tickets", body, headers);
  const waitForToken = () => sleep(1100);

  it("accepts a correctly signed delivery", async () => {
    await waitForToken();
    const body = JSON.stringify(ticket("wh-1"));
    expect((await send(body, signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body, delivery: "d-1" }))).status).toBe(202);
  });

  it("refuses a bad signature, a changed body, an unknown integration and an old timestamp with 401", async () => {
    const body = JSON.stringify(ticket("wh-2"));
    expect(await errorOf(await send(body, signedHeaders({ integration: "mailer", secret: "not-the-secret-at-all", body })))).toEqual([401, "INVALID_SIGNATURE"]);
    expect(await errorOf(await send(body.replace("wh-2", "wh-3"), signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body })))).toEqual([401, "INVALID_SIGNATURE"]);
    expect(await errorOf(await send(body, signedHeaders({ integration: "helpdesk", secret: MAILER_SECRET, body })))).toEqual([401, "INVALID_SIGNATURE"]);
    const old = Math.floor(Date.now() / 1000) - 6 * 60;
    expect(await errorOf(await send(body, signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body, timestamp: old })))).toEqual([401, "SIGNATURE_EXPIRED"]);
    const future = Math.floor(Date.now() / 1000) + 6 * 60;
    expect(await errorOf(await send(body, signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body, timestamp: future })))).toEqual([401, "SIGNATURE_EXPIRED"]);
  });

  it("refuses a replayed delivery with 409, by delivery id or, without one, by signature", async () => {
    await waitForToken();
    const body = JSON.stringify(ticket("wh-4"));
    const headers = signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body, delivery: "d-4" });
    expect((await send(body, headers)).status).toBe(202);
    expect(await errorOf(await send(body, headers))).toEqual([409, "REPLAYED_DELIVERY"]);
    // Re-signed later with a new timestamp but the same delivery id: still a replay.
    await sleep(1100);
    expect(await errorOf(await send(body, signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body, delivery: "d-4" })))).toEqual([409, "REPLAYED_DELIVERY"]);
    await waitForToken();
    const body5 = JSON.stringify(ticket("wh-5"));
    const noId = signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body: body5 });
    expect((await send(body5, noId)).status).toBe(202);
    expect(await errorOf(await send(body5, noId))).toEqual([409, "REPLAYED_DELIVERY"]);
  });

  it("releases a signed delivery that was refused for its rate, so the sender's retry goes through", async () => {
    await waitForToken();
    const first = JSON.stringify(ticket("wh-6"));
    expect((await send(first, signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body: first, delivery: "d-6" }))).status).toBe(202);
    const second = JSON.stringify(ticket("wh-7"));
    const limited = await send(second, signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body: second, delivery: "d-7" }));
    expect(await errorOf(limited)).toEqual([429, "RATE_LIMITED"]);
    await waitForToken();
    expect((await send(second, signedHeaders({ integration: "mailer", secret: MAILER_SECRET, body: second, delivery: "d-7" }))).status).toBe(202);
  });
});
