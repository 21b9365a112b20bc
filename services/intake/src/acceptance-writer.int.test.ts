// The writes behind intake's answers, over the real store and broker: acceptances that arrive while a
// write runs are committed together; every link, key and view lands; a follow-up submitted right after
// its ticket (whose links are still being written) joins that ticket; a re-delivery right after the
// answer is recognised as one; and reads on the same instance never miss a message it accepted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStore, type Store } from "@steward/store";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { isolatedEnv, uniqueName } from "@steward/testkit";
import { AcceptanceWriter } from "./acceptance-writer.ts";
import { CustomerStore } from "./customer-store.ts";
import { IntakePipeline } from "./intake-pipeline.ts";
import { TicketStore, type TicketDoc } from "./ticket-store.ts";
import { TicketViews } from "./ticket-views.ts";
import { topicKey, topicThreadKey, type IncomingSubmission } from "./domain/submission.ts";
import { identityKeysOf, referenceThreadKey } from "./domain/customer-identity.ts";
import { ticketReference } from "./domain/acknowledgement.ts";

const t = isolatedEnv("intake-acceptances");
const SECRET = "test-secret";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let conn: Store;
let store: TicketStore;
let customers: CustomerStore;
let bus: EventBus;

beforeAll(async () => {
  conn = await connectStore(t.mongoUri, t.database);
  store = new TicketStore(conn.db);
  customers = new CustomerStore(conn.db);
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "acceptances-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
});

afterAll(async () => {
  await bus?.close();
  await conn?.close();
});

/**
 * A pipeline whose views are written behind its answers, as in the service; counts the view inserts.
 * `slowMs` holds every link write back that long, so what depends on a pending write shows.
 */
function pipeline(slowMs = 0) {
  const views = new TicketViews(store);
  const inserts: number[] = [];
  const counted = Object.create(store) as TicketStore;
  counted.createTickets = async (docs: readonly TicketDoc[]) => {
    inserts.push(docs.length);
    return store.createTickets(docs);
  };
  counted.linkThreadsMany = async (...args) => {
    await sleep(slowMs);
    return store.linkThreadsMany(...args);
  };
  const slowCustomers = Object.create(customers) as CustomerStore;
  slowCustomers.linkMany = async (...args) => {
    await sleep(slowMs);
    return customers.linkMany(...args);
  };
  const acceptances = new AcceptanceWriter({
    store: counted,
    customers: slowCustomers,
    onCreated: (created) => created.forEach((v) => views.remember(v)),
    onChanged: (ids) => ids.forEach((id) => views.forget(id)),
    onFailed: (ids) => ids.forEach((id) => views.forget(id)),
  });
  views.followWrites(acceptances);
  const intake = new IntakePipeline({ store, views, bus, customers, acceptances, customerKeySecret: SECRET, followUpWindowMs: 3_600_000 });
  return { intake, views, acceptances, inserts };
}

const submission = (over: Partial<IncomingSubmission> & { externalId: string }): IncomingSubmission => ({
  channel: "email",
  integrationId: "dev",
  customer: { id: uniqueName("cust"), email: `${uniqueName("c")}@example.com` },
  subject: "Parcel never arrived",
  body: "My parcel never arrived.",
  ...over,
});

describe("acceptance writer", () => {
  it("commits acceptances that arrive while a write runs together, and every link, key and view lands", async () => {
    const { intake, acceptances, inserts } = pipeline();
    const subs = Array.from({ length: 30 }, (_, i) => submission({ externalId: uniqueName(`bulk-${i}`) }));
    const results = await Promise.all(subs.map((s) => intake.submit(s)));
    await acceptances.close();
    // 30 acceptances in far fewer view inserts (the first goes alone; the rest queue behind it).
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(inserts.length).toBeLessThan(30);
    for (const [i, r] of results.entries()) {
      const view = await store.get(r.ticketId);
      expect(view?.messages.map((m) => m.body)).toEqual(["My parcel never arrived."]);
      expect((await store.findByReference(ticketReference(r.ticketId)))?._id).toBe(r.ticketId);
      expect(view?.customerId).toMatch(/^cus-/);
      expect((await customers.find(identityKeysOf(subs[i] as IncomingSubmission, SECRET))).customerId).toBe(view?.customerId);
      const link = await store.threads.findOne({ _id: topicThreadKey(view?.customerId as string, topicKey(subs[i]?.subject) as string) });
      expect(link?.ticketId).toBe(r.ticketId);
      expect(await customers.get(view?.customerId as string)).not.toBeNull();
    }
  }, 120_000);

  it("joins a follow-up sent right after its ticket, answers a re-delivery as one, and shows every message it accepted", async () => {
    const { intake, views, acceptances } = pipeline(400);
    const customer = { id: uniqueName("cust"), email: `${uniqueName("same")}@example.com` };
    const first = submission({ externalId: uniqueName("first"), customer });
    const opened = await intake.submit(first);
    // No waiting: the first ticket's links and keys may still be on their way to the store.
    const [again, followUp] = await Promise.all([
      intake.submit(first),
      intake.submit(submission({ externalId: uniqueName("second"), customer, subject: "Re: Parcel never arrived", body: "Any news?" })),
    ]);
    expect(again).toMatchObject({ ticketId: opened.ticketId, duplicate: true });
    expect(followUp).toMatchObject({ ticketId: opened.ticketId, followUp: true });
    const byReference = await intake.submit(submission({ externalId: uniqueName("third"), body: `About ${ticketReference(opened.ticketId)}: still nothing.`, customer }));
    expect(byReference).toMatchObject({ ticketId: opened.ticketId, followUp: true });
    // A read on this instance waits for its own pending writes.
    const view = await views.get(opened.ticketId);
    expect(view?.messages.map((m) => [m.sequence, m.body])).toEqual([
      [1, "My parcel never arrived."],
      [2, "Any news?"],
      [3, `About ${ticketReference(opened.ticketId)}: still nothing.`],
    ]);
    await acceptances.close();
    expect((await store.get(opened.ticketId))?.messages).toHaveLength(3);
    expect((await store.threads.findOne({ _id: referenceThreadKey(ticketReference(opened.ticketId)) }))?.ticketId).toBe(opened.ticketId);
  }, 120_000);
});
