// The write-behind ledger against the real store and broker, where two instances decide inputs of one
// ticket at the same time: the flush that loses the revision race reads what the other wrote and redoes
// its own pending inputs on it, so the stored ticket ends with both instances' inputs and a view of it.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { connectStore, type Store } from "@steward/store";
import { createLogger } from "@steward/telemetry";
import { isolatedEnv, waitFor } from "@steward/testkit";
import type { SlaRecord } from "./domain/index.ts";
import { PolicyRegistry } from "./policy-registry.ts";
import { SlaLedger } from "./sla-ledger.ts";
import { SlaStore } from "./sla-store.ts";
import { TicketLocks } from "./ticket-locks.ts";

const POLICY = fileURLToPath(new URL("../policy/sla-policy.json", import.meta.url));
const t = isolatedEnv("escalation-ledger");
const log = createLogger("escalation-ledger-test", "error");
let store: Store;
let slas: SlaStore;
let bus: EventBus;
const ledgers: SlaLedger[] = [];

async function ledger(instanceId: string): Promise<SlaLedger> {
  const policies = new PolicyRegistry({ store: slas, file: POLICY, instanceId, log });
  await policies.init();
  // A flush window longer than the test's steps, so each flush is the test's own call.
  const l = new SlaLedger({ store: slas, policies, bus, locks: new TicketLocks(), log, instanceId, leaseMs: 10_000, onWake: () => undefined, flushMs: 60_000 });
  ledgers.push(l);
  return l;
}

beforeAll(async () => {
  store = await connectStore(t.mongoUri, t.database);
  slas = new SlaStore(store.db);
  await slas.init();
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "escalation-ledger-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
});

afterAll(async () => {
  await Promise.all(ledgers.map((l) => l.close()));
  await bus?.close();
  await store?.close();
});

const at = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();

describe("two ledgers writing one ticket behind", () => {
  it("keeps both instances' inputs: the flush that loses the race redoes its own on the newer revision", async () => {
    const a = await ledger("ledger-a");
    const b = await ledger("ledger-b");
    // Both learn of the ticket from the store (written by a), then each decides an input of its own.
    const started = a.applyEvents("L-1", [
      { eventId: "received", timed: { at: at(-2_000), input: { type: "received", channel: "email" } } },
      {
        eventId: "triaged",
        timed: {
          at: at(-1_900),
          input: { type: "triaged", priority: "P3", channel: "email", group: "billing", policyName: "standard", answerDidNotHelp: false, repeatContactCount: 0 },
        },
      },
    ]);
    // Decided in memory (the call takes the ticket's lock first), then written by the flush.
    await waitFor(async () => ((await a.get("L-1"))?.status === "open" ? true : undefined), { what: "L-1 open in a's memory" });
    await a.flush();
    await started;
    const stored = await slas.get("L-1");
    expect(stored?.rev).toBe(1);

    const assigned = b.applyEvent("L-1", "assigned", { at: at(-1_000), input: { type: "assigned", ownerId: "agent-3" } });
    // a holds revision 1 in memory; b read it from the store: both write revision 2.
    const replied = a.applyEvent("L-1", "replied", { at: at(-500), input: { type: "agentReplied" } });
    await waitFor(async () => ((await b.get("L-1"))?.ownerId === "agent-3" ? true : undefined), { what: "the owner in b's memory" });
    await waitFor(async () => ((await a.get("L-1"))?.view?.firstResponseDue === null ? true : undefined), { what: "the reply in a's memory" });
    expect((await a.get("L-1"))?.ownerId).toBeNull();
    await b.flush();
    await assigned;
    // a's flush loses (revision 2 is b's): it reads it, redoes the reply on it and writes revision 3.
    await a.flush();
    await replied;

    const final = (await slas.get("L-1"))!;
    expect(final.rev).toBe(3);
    expect(final.appliedEvents).toEqual(["received", "triaged", "assigned", "replied"]);
    const record = JSON.parse(final.record) as SlaRecord;
    expect(record.state?.ownerId).toBe("agent-3");
    // The reply met the first response: that clock is stopped in the stored view.
    expect(JSON.parse(final.view!)).toMatchObject({ firstResponseDue: null });
  });
});
