// With the store down, intake cannot record a delivery, so it must answer 503 + Retry-After quickly
// (the 2 s contract, never holding the caller) and accept nothing half-made; once the store is back, the
// same delivery is accepted exactly once. This file runs its own FerretDB (killing the shared one would
// break other tests) and uses the shared Kafka.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFerretDb, type RunningStore } from "@steward/infra/ferretdb";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { postJson } from "../test-support/test-support.ts";

const ANSWER_WITHIN_MS = 2_000;
let stateDir = "";
let ferret: RunningStore | undefined;
let intake: RunningIntake | undefined;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "intake-outage-store-"));
  ferret = await startFerretDb({ stateDir });
  const env = isolatedEnv("intake-store-outage", { MONGODB_URI: ferret.uri });
  intake = await startIntake(loadIntakeConfig(env.env));
}, 240_000);

afterAll(async () => {
  await intake?.close();
  await ferret?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}, 120_000);

describe("store unreachable", () => {
  it("answers 503 with Retry-After within 2 s, then accepts the same delivery exactly once when the store is back", async () => {
    if (!intake || !ferret) throw new Error("not started");
    const url = intake.httpUrl;
    expect((await postJson(url, "/v1/tickets", { channel: "chat", externalId: "before", customer: { id: "c-1" }, body: "hello" })).status).toBe(202);

    await ferret.kill("SIGKILL");
    const body = { channel: "chat", externalId: "during", customer: { id: "c-2" }, subject: "Card declined", body: "My card was declined twice." };
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const res = await postJson(url, "/v1/tickets", body);
      times.push(Date.now() - started);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).not.toBeNull();
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("STORE_UNAVAILABLE");
    }
    process.stderr.write(`[store-outage] 503 answered in ${times.join(", ")} ms (contract ${ANSWER_WITHIN_MS} ms)\n`);
    // Within the contract's 2 s plus the time a loaded test machine takes to answer at all.
    expect(Math.max(...times)).toBeLessThan(ANSWER_WITHIN_MS + 1_000);

    await ferret.restart();
    const accepted = await waitFor(
      async () => {
        const res = await postJson(url, "/v1/tickets", body);
        return res.status === 202 ? ((await res.json()) as { ticketId: string; duplicate: boolean }) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "202 once the store is back" },
    );
    expect(accepted.duplicate).toBe(false);
    expect(await (await postJson(url, "/v1/tickets", body)).json()).toMatchObject({ ticketId: accepted.ticketId, duplicate: true });
  }, 180_000);
});
