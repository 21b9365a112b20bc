// The batch worker over the real broker and store: what a partition's batch costs in store commands, and
// that coalescing keeps the promises (a redelivery republishes what is stored and counts no contact twice,
// a ticket's follow-ups in one batch are stored in one write, re-triage never lowers priority).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connectStore, type MongoClient, type Store } from "@steward/store";
import { createKafkaJsBus, newEnvelope, type EventBus, type IncomingEvent } from "@steward/messaging";
import { Channel, Priority, Topics, type Envelope, type TicketTriaged } from "@steward/proto";
import { createLogger } from "@steward/telemetry";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { createTriageEngine, eldLanguageScorer } from "./domain/index.ts";
import { readIntentModelFile, readTriagePolicyFile } from "./policy/triage-files.ts";
import { MAX_REMEMBERED_CONTACTS, TriageStore } from "./triage-store.ts";
import { handleReceivedBatch, type TriageWorkerDeps } from "./triage-worker.ts";

const t = isolatedEnv("triage-worker");
let store: Store;
let monitored: MongoClient;
let bus: EventBus;
let deps: TriageWorkerDeps;
const triaged: IncomingEvent[] = [];
const commands: string[] = [];

beforeAll(async () => {
  store = await connectStore(t.mongoUri, t.database);
  // A second client like the service's, with command monitoring, to count what a batch sends.
  const Client = store.client.constructor as new (uri: string, options: object) => MongoClient;
  monitored = new Client(t.mongoUri, { monitorCommands: true, writeConcern: { w: "majority", j: true }, retryWrites: false });
  monitored.on("commandStarted", (e) => {
    const collection: unknown = e.command[e.commandName];
    if (typeof collection === "string" && collection.startsWith("triage_")) commands.push(`${e.commandName} ${collection}`);
  });
  await monitored.connect();
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "triage-worker-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
  await bus.subscribe({ groupId: "triage-worker-test-reader", topics: [Topics.triaged], handler: async (e) => void triaged.push(e) });
  const engine = createTriageEngine({ policy: readTriagePolicyFile(), model: readIntentModelFile(), languageScorer: eldLanguageScorer });
  deps = { store: new TriageStore(monitored.db(t.database)), bus, engine: () => engine, repeatWindowMs: 7 * 86_400_000, log: createLogger("triage-worker-test", "error") };
});

afterAll(async () => {
  await bus?.close();
  await monitored?.close();
  await store?.close();
});

beforeEach(() => {
  commands.length = 0;
});

const customer = (id: string) => ({ id, name: "", email: "", phone: "", tier: "standard", language: "" });
const parcel = "My parcel for order 4411 has not arrived, the tracking has not moved for a week.";

function ticket(ticketId: string, customerId: string, body = parcel, occurredAt = new Date()): Envelope {
  return newEnvelope(
    "ticketReceived",
    ticketId,
    {
      channel: Channel.EMAIL,
      externalId: `x-${ticketId}`,
      customer: customer(customerId),
      subject: "Where is my order",
      body,
      quotedText: "",
      signature: "",
      threadId: "",
      metadata: {},
      channelRefs: {},
      messageId: `m-${ticketId}`,
      integrationId: "test",
    },
    "test",
    { occurredAt },
  );
}

function followUp(ticketId: string, customerId: string, body: string, sequence: number): Envelope {
  return newEnvelope(
    "messageReceived",
    ticketId,
    {
      messageId: `m-${ticketId}-${sequence}`,
      channel: Channel.CHAT,
      externalId: `x-${ticketId}-${sequence}`,
      from: "customer",
      body,
      quotedText: "",
      sequence,
      customer: customer(customerId),
      channelRefs: {},
    },
    "test",
  );
}

/** The answers published for these inputs, in input order (each answer's id is `<input id>/triaged`). */
function answersTo(inputs: Envelope[], copies = 1): Promise<TicketTriaged[]> {
  return waitFor(
    () => {
      const answers: TicketTriaged[] = [];
      for (const input of inputs) {
        const found = triaged.filter((e) => e.envelope.eventId === `${input.eventId}/triaged`);
        const last = found[found.length - 1];
        if (found.length < copies || last?.envelope.payload?.$case !== "ticketTriaged") return undefined;
        answers.push(last.envelope.payload.value);
      }
      return answers;
    },
    { what: "triage answers", timeoutMs: 30_000 },
  );
}

const count = (command: string): number => commands.filter((c) => c === command).length;

describe("triage batch worker", () => {
  it("triages a batch of new tickets with one contact command per customer and one insert", async () => {
    const inputs = [ticket("b1-t1", "b1-c1"), ticket("b1-t2", "b1-c1"), ticket("b1-t3", "b1-c2"), ticket("b1-t4", "b1-c3")];
    await handleReceivedBatch(deps, inputs);
    expect(commands.sort()).toEqual(["findAndModify triage_contacts", "findAndModify triage_contacts", "findAndModify triage_contacts", "insert triage_decisions"]);
    const answers = await answersTo(inputs);
    // b1-t2 is the same customer's second contact about the same thing, triaged in the same batch.
    expect(answers.map((a) => a.repeatContactCount)).toEqual([0, 1, 0, 0]);
    expect(answers.every((a) => !a.retriage && a.intent === answers[0]?.intent)).toBe(true);
    expect(answers[1]?.priority).toBeLessThanOrEqual(answers[0]?.priority ?? Priority.P4);
  });

  it("answers a redelivered batch with the stored decisions and counts no contact twice", async () => {
    const inputs = [ticket("b2-t1", "b2-c1"), ticket("b2-t2", "b2-c1")];
    await handleReceivedBatch(deps, inputs);
    const first = await answersTo(inputs);
    commands.length = 0;

    await handleReceivedBatch(deps, inputs); // same events, same ids
    const again = await answersTo(inputs, 2);
    expect(again).toEqual(first);
    expect(count("update triage_decisions")).toBe(0);
    expect(count("insert triage_decisions")).toBe(1);
    expect(count("find triage_decisions")).toBe(2);

    const third = ticket("b2-t3", "b2-c1");
    await handleReceivedBatch(deps, [third]);
    const [answer] = await answersTo([third]);
    expect(answer?.repeatContactCount).toBe(2); // b2-t1 and b2-t2, each once
  });

  it("decides a retried batch as it first did, though the customer wrote again meanwhile", async () => {
    // A first triage is published beside its insert (ADR 0019): a retry must publish the same decision
    // under the same id, so it counts only the contacts recorded before the ticket's own.
    const inputs = [ticket("b5-t1", "b5-c1"), ticket("b5-t2", "b5-c1")];
    await handleReceivedBatch(deps, inputs);
    const first = await answersTo(inputs);
    expect(first.map((a) => a.repeatContactCount)).toEqual([0, 1]);
    const later = ticket("b5-t3", "b5-c1");
    await handleReceivedBatch(deps, [later]);
    expect((await answersTo([later]))[0]?.repeatContactCount).toBe(2);

    await handleReceivedBatch(deps, inputs); // the same events again, after b5-t3
    // Every copy: the one decided again beside the insert, and the one answered from the stored decision.
    const copies = await waitFor(
      () => {
        const all = inputs.map((input) => triaged.filter((e) => e.envelope.eventId === `${input.eventId}/triaged`));
        return all.every((c) => c.length >= 3) ? all : undefined;
      },
      { what: "three copies of each answer" },
    );
    for (const [i, list] of copies.entries()) {
      for (const copy of list) {
        expect(copy.envelope.payload?.$case === "ticketTriaged" ? copy.envelope.payload.value : undefined).toEqual(first[i]);
      }
    }
  });

  it("stores a ticket and its follow-ups from one batch in one write, never lowering priority", async () => {
    const first = ticket("b3-t1", "b3-c1", "Hi, could you tell me which plan includes more storage?");
    const urgent = followUp("b3-t1", "b3-c1", "URGENT: the whole system is down, none of my team can log in or work at all!", 2);
    const calm = followUp("b3-t1", "b3-c1", "Any news?", 3);
    await handleReceivedBatch(deps, [first, urgent, calm]);
    expect(commands.sort()).toEqual(["findAndModify triage_contacts", "insert triage_decisions"]);
    const [a0, a1, a2] = await answersTo([first, urgent, calm]);
    expect([a0?.retriage, a1?.retriage, a2?.retriage]).toEqual([false, true, true]);
    // Only the first triage tells routing when intake accepted the ticket.
    expect([a0?.ticketReceivedAt, a1?.ticketReceivedAt, a2?.ticketReceivedAt]).toEqual([first.occurredAt, undefined, undefined]);
    expect(a1?.priority).toBeLessThan(Priority.P3);
    expect(a1?.priority).toBeLessThanOrEqual(a0?.priority ?? 0);
    expect(a2?.priority).toBeLessThanOrEqual(a1?.priority ?? 0);

    const stored = await new TriageStore(store.db).getDecision("b3-t1");
    expect(stored?.eventIds).toEqual([first.eventId, urgent.eventId, calm.eventId]);
    expect(stored?.decision.triage.reasons).toEqual(a2?.reasons);

    // The calm follow-up redelivered alone: the stored decision again, nothing written.
    commands.length = 0;
    await handleReceivedBatch(deps, [calm]);
    const [again] = await answersTo([calm], 2);
    expect(again).toEqual(a2);
    expect(commands).toEqual(["find triage_decisions"]);
  });

  it("re-triages follow-ups of known tickets with one read and one update per ticket", async () => {
    const a = ticket("b4-t1", "b4-c1");
    const b = ticket("b4-t2", "b4-c2");
    await handleReceivedBatch(deps, [a, b]);
    await answersTo([a, b]);
    commands.length = 0;
    const inputs = [
      followUp("b4-t1", "b4-c1", "Still nothing, this is getting ridiculous.", 2),
      followUp("b4-t2", "b4-c2", "Any update?", 2),
      followUp("b4-t1", "b4-c1", "Hello??", 3),
    ];
    await handleReceivedBatch(deps, inputs);
    expect(commands.sort()).toEqual(["find triage_decisions", "find triage_decisions", "update triage_decisions", "update triage_decisions"]);
    const answers = await answersTo(inputs);
    expect(answers.every((x) => x.retriage)).toBe(true);
  });

  it("answers the rest of a batch before failing on a follow-up whose ticket has no decision", async () => {
    const orphan = followUp("b5-none", "b5-c1", "Hello?", 2);
    const fine = ticket("b5-t1", "b5-c2");
    await expect(handleReceivedBatch(deps, [orphan, fine])).rejects.toThrow(/without a triage decision/);
    const [answer] = await answersTo([fine]);
    expect(answer?.retriage).toBe(false);
  });
});

describe("triage store", () => {
  it("keeps a customer's contact list bounded without losing the latest ones", async () => {
    const s = new TriageStore(store.db);
    const base = Date.now() - 86_400_000;
    const contacts = Array.from({ length: 2 * MAX_REMEMBERED_CONTACTS + 1 }, (_, i) => ({ ticketId: `ct-${i}`, intent: "orders", at: new Date(base + i * 1000) }));
    await s.recordContacts("ct-c1", contacts.slice(0, MAX_REMEMBERED_CONTACTS));
    await s.recordContacts("ct-c1", contacts.slice(MAX_REMEMBERED_CONTACTS));
    const doc = await s.contacts.findOne({ _id: "ct-c1" });
    expect(doc?.contacts.map((c) => c.ticketId)).toEqual(contacts.slice(-MAX_REMEMBERED_CONTACTS).map((c) => c.ticketId));
  });
});
