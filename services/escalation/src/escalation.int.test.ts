// Escalation over the real broker and store, with a policy whose targets are seconds long: the view
// is published, warnings and breaches fire in order and once, across a restart and with two
// instances at once; ladders help the owner without taking the ticket; pauses and policy reloads
// move the deadlines. Input events are published here as triage, routing and intake would.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, newEnvelope, type EventBus, type IncomingEvent, type PayloadCase, type PayloadOf } from "@steward/messaging";
import {
  Channel,
  MessageReceived,
  Priority,
  TicketAssigned,
  TicketReceived,
  TicketResolved,
  TicketTriaged,
  Topics,
  type Envelope,
  type EscalationAction,
  type Notification,
  type SlaUpdated,
} from "@steward/proto";
import { bearer, isolatedEnv, tokens, uniqueName, waitFor, type TestEnv } from "@steward/testkit";
import { loadEscalationConfig } from "./config.ts";
import { startEscalation, type RunningEscalation } from "./service.ts";
import { SlaStore } from "./sla-store.ts";
import { connectStore } from "@steward/store";
import type { SlaSnapshot } from "./sla-ledger.ts";

const SECONDS_POLICY = fileURLToPath(new URL("../policy/sla-policy.test-seconds.json", import.meta.url));

/** A test system: isolated topics and database, an input bus, and everything escalation publishes. */
class Harness {
  readonly env: TestEnv;
  readonly seen: IncomingEvent[] = [];
  private bus!: EventBus;
  private readonly running = new Set<RunningEscalation>();

  constructor(name: string) {
    this.env = isolatedEnv(name);
  }

  async open(): Promise<void> {
    this.bus = createKafkaJsBus({ brokers: this.env.brokers, clientId: "escalation-test", topicPrefix: this.env.topicPrefix });
    await this.bus.ensureTopics();
    await this.bus.subscribe({
      groupId: uniqueName("escalation-reader"),
      topics: [Topics.escalation, Topics.outbound],
      handler: async (e) => void this.seen.push(e),
    });
  }

  async start(extra: Record<string, string> = {}): Promise<RunningEscalation> {
    const service = await startEscalation(
      loadEscalationConfig({ ...this.env.env, ESCALATION_POLICY_FILE: SECONDS_POLICY, ESCALATION_TIMER_POLL_MS: "250", ESCALATION_POLICY_POLL_MS: "500", ...extra }),
    );
    this.running.add(service);
    return service;
  }

  async stop(service: RunningEscalation): Promise<void> {
    this.running.delete(service);
    await service.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((s) => s.close()));
    await this.bus?.close();
  }

  publish<C extends PayloadCase>(topic: (typeof Topics)[keyof typeof Topics], payloadCase: C, ticketId: string, value: PayloadOf<C>, occurredAt = new Date()): Promise<void> {
    return this.bus.publish({ topic, envelope: newEnvelope(payloadCase, ticketId, value, "test", { occurredAt }) });
  }

  publishEnvelope(topic: (typeof Topics)[keyof typeof Topics], envelope: Envelope): Promise<void> {
    return this.bus.publish({ topic, envelope });
  }

  triaged(ticketId: string, priority: Priority, channel: Channel, extra: Partial<TicketTriaged> = {}, occurredAt = new Date()): Promise<void> {
    const value: TicketTriaged = { ...TicketTriaged.fromJSON({}), priority, channel, group: "billing", slaPolicy: "standard", ...extra };
    return this.publish(Topics.triaged, "ticketTriaged", ticketId, value, occurredAt);
  }

  assigned(ticketId: string, agentId: string, channel: Channel): Promise<void> {
    return this.publish(Topics.routing, "ticketAssigned", ticketId, { ...TicketAssigned.fromJSON({}), agentId, offerId: `offer-${ticketId}`, channel });
  }

  message(ticketId: string, from: "customer" | "agent", occurredAt = new Date()): Promise<void> {
    const value: MessageReceived = { ...MessageReceived.fromJSON({}), messageId: uniqueName("m"), from, body: "…", channel: Channel.EMAIL, sequence: 2 };
    return this.publish(Topics.received, "messageReceived", ticketId, value, occurredAt);
  }

  ofTicket(ticketId: string): IncomingEvent[] {
    return this.seen.filter((e) => e.envelope.ticketId === ticketId);
  }

  actions(ticketId: string): Array<EscalationAction & { at: Date }> {
    return this.ofTicket(ticketId).flatMap((e) => (e.envelope.payload?.$case === "escalationAction" ? [{ ...e.envelope.payload.value, at: e.envelope.occurredAt! }] : []));
  }

  views(ticketId: string): SlaUpdated[] {
    return this.ofTicket(ticketId).flatMap((e) => (e.envelope.payload?.$case === "slaUpdated" ? [e.envelope.payload.value] : []));
  }

  notifications(ticketId: string): Notification[] {
    return this.ofTicket(ticketId).flatMap((e) => (e.envelope.payload?.$case === "notification" ? [e.envelope.payload.value] : []));
  }

  action(ticketId: string, name: string, what = `${name} for ${ticketId}`): Promise<EscalationAction & { at: Date }> {
    return waitFor(() => this.actions(ticketId).find((a) => a.action === name), { what, timeoutMs: 30_000 });
  }
}

// The admin reads and acts on every ticket; the access rules themselves are tested in test/access.
const asAdmin = async (): Promise<Record<string, string>> => bearer(tokens.admin());

async function sla(service: RunningEscalation, ticketId: string): Promise<SlaSnapshot> {
  const res = await fetch(`${service.httpUrl}/v1/tickets/${ticketId}/sla`, { headers: await asAdmin() });
  expect(res.status).toBe(200);
  return (await res.json()) as SlaSnapshot;
}

const post = async (service: RunningEscalation, path: string): Promise<Response> => fetch(`${service.httpUrl}${path}`, { method: "POST", headers: await asAdmin() });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ms = (d: Date | undefined): number => d!.getTime();

/** Every action key published more than once. */
function duplicateKeys(events: IncomingEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.envelope.payload?.$case !== "escalationAction") continue;
    const key = e.envelope.payload.value.key;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([key]) => key);
}

describe("one escalation instance", () => {
  const h = new Harness("escalation");
  let service: RunningEscalation;

  beforeAll(async () => {
    await h.open();
    service = await h.start();
  });
  afterAll(() => h.close());

  it("publishes the SLA view, then a warning and then a breach, in order and on time", async () => {
    const start = new Date();
    await h.triaged("A-1", Priority.P1, Channel.EMAIL, {}, start);
    const first = await waitFor(() => h.views("A-1")[0], { what: "sla.updated for A-1" });
    expect(first.policy).toBe("standard");
    expect(first.policyVersion).toBe("test-seconds.1");
    expect(ms(first.firstResponseDue)).toBe(start.getTime() + 4_000);
    expect(ms(first.resolutionDue)).toBe(start.getTime() + 600_000);
    expect(first.nextResponseDue).toBeUndefined();
    expect(first.paused).toBe(false);
    expect(first.priority).toBe(Priority.P1);

    const breach = await h.action("A-1", "sla_breach");
    const warning = h.actions("A-1").find((a) => a.action === "sla_warning")!;
    expect(warning.clock).toBe("firstResponse");
    expect(warning.source).toBe("firstResponse.1");
    expect(ms(warning.dueAt)).toBe(start.getTime() + 3_000);
    expect(ms(breach.dueAt)).toBe(start.getTime() + 4_000);
    // Never early: performed at or after the moment it was due.
    expect(warning.at.getTime()).toBeGreaterThanOrEqual(start.getTime() + 3_000);
    expect(breach.at.getTime()).toBeGreaterThanOrEqual(start.getTime() + 4_000);
    const names = h.actions("A-1").map((a) => a.action);
    expect(names.indexOf("sla_warning")).toBeLessThan(names.indexOf("sla_breach"));
    console.log(`[measure] A-1 warning ${warning.at.getTime() - ms(warning.dueAt)} ms after due, breach ${breach.at.getTime() - ms(breach.dueAt)} ms after due`);

    // Unowned ticket: the waiting ladder widens routing and calls the group's supervisor.
    const widen = await h.action("A-1", "widen_routing");
    expect(widen.relaxSkills).toBe(true);
    expect(widen.addGroups).toEqual(["overflow"]);
    expect(widen.level).toBe(2);
    await h.action("A-1", "notify_supervisor");
    await waitFor(() => h.notifications("A-1").find((n) => n.recipient === "supervisor:billing" && n.kind === "escalation"), { what: "supervisor notice" });
    const breachedView = await waitFor(() => h.views("A-1").find((v) => v.breaches.includes("firstResponse.1") && v.level === 3), { what: "view with the breach" });
    expect(breachedView.firstResponseDue).toBeDefined();
    const warnedView = h.views("A-1").find((v) => v.warnings.includes("firstResponse.1"));
    expect(warnedView).toBeDefined();
  });

  it("helps the owner of a breached ticket without ever changing the owner", async () => {
    const start = new Date();
    await h.triaged("D-1", Priority.P3, Channel.EMAIL, {}, start);
    await waitFor(() => h.views("D-1")[0], { what: "first view of D-1" });
    await h.assigned("D-1", "agent-7", Channel.EMAIL);
    // Email: accepting the ticket is not the first response, so the clock keeps running.
    const notify = await h.action("D-1", "notify_owner");
    expect(notify.ownerId).toBe("agent-7");
    expect(notify.level).toBe(1);
    const ownerNotice = await waitFor(() => h.notifications("D-1").find((n) => n.recipient === "agent-7"), { what: "owner notice" });
    expect(ownerNotice.kind).toBe("sla_warning");
    expect(ownerNotice.reference).toBe(notify.key);

    const raise = await h.action("D-1", "raise_priority");
    expect(raise.previousPriority).toBe(Priority.P3);
    expect(raise.priority).toBe(Priority.P2);
    const collaborator = await h.action("D-1", "add_collaborator");
    expect(collaborator.role).toBe("specialist");
    await h.action("D-1", "notify_supervisor");
    await waitFor(() => h.notifications("D-1").find((n) => n.recipient === "supervisor:billing"), { what: "supervisor notice" });

    const published = h.ofTicket("D-1");
    expect(new Set(published.map((e) => e.envelope.payload?.$case))).toEqual(new Set(["slaUpdated", "escalationAction", "notification"]));
    expect(h.actions("D-1").every((a) => a.ownerId === "agent-7")).toBe(true);
    expect(h.actions("D-1").map((a) => a.action)).not.toContain("widen_routing");
    const state = await sla(service, "D-1");
    expect(state.ownerId).toBe("agent-7");
    expect(state.priority).toBe("P2");
    await waitFor(() => h.views("D-1").find((v) => v.priority === Priority.P2 && v.level === 3), { what: "view at P2, level 3" });
  });

  it("pauses while waiting on the customer and resumes when the customer writes", async () => {
    const start = new Date();
    await h.triaged("E-1", Priority.P2, Channel.EMAIL, {}, start);
    const first = await waitFor(() => h.views("E-1")[0], { what: "first view of E-1" });
    await sleep(1_000);
    const beforePause = Date.now();
    const paused = await post(service, "/v1/tickets/E-1/sla/pause");
    const afterPause = Date.now();
    expect(paused.status).toBe(200);
    const pausedSla = (await paused.json()) as SlaSnapshot;
    expect(pausedSla.view?.paused).toBe(true);
    expect(pausedSla.view?.firstResponseDue).toBeNull();
    await waitFor(() => h.views("E-1").find((v) => v.paused), { what: "paused view" });

    // Well past the original deadline (6 s after start): nothing fires while paused.
    await sleep(7_000);
    expect(h.actions("E-1").filter((a) => a.action === "sla_warning" || a.action === "sla_breach")).toEqual([]);

    const resumeAt = new Date();
    await h.message("E-1", "customer", resumeAt);
    const resumed = await waitFor(() => h.views("E-1").find((v) => !v.paused && v.firstResponseDue !== undefined && ms(v.firstResponseDue) > ms(first.firstResponseDue)), {
      what: "resumed view",
    });
    // The clock keeps the time it had left when paused.
    const due = ms(resumed.firstResponseDue);
    expect(due).toBeGreaterThanOrEqual(resumeAt.getTime() + ms(first.firstResponseDue) - afterPause);
    expect(due).toBeLessThanOrEqual(resumeAt.getTime() + ms(first.firstResponseDue) - beforePause);
    const breach = await h.action("E-1", "sla_breach");
    expect(ms(breach.dueAt)).toBe(due);
  });

  it("resumes on the agent's word too, and answers bad requests with stable codes", async () => {
    await h.triaged("H-1", Priority.P4, Channel.WEB);
    await waitFor(() => h.views("H-1")[0], { what: "first view of H-1" });
    expect((await post(service, "/v1/tickets/H-1/sla/pause")).status).toBe(200);
    const resumed = await post(service, "/v1/tickets/H-1/sla/resume");
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as SlaSnapshot).view?.paused).toBe(false);

    const unknown = await post(service, "/v1/tickets/nobody/sla/pause");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("SLA_NOT_FOUND");
    const badId = await post(service, "/v1/tickets/bad%20id/sla/pause");
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { error: { code: string } }).error.code).toBe("VALIDATION_FAILED");

    await h.publish(Topics.routing, "ticketResolved", "H-1", { ...TicketResolved.fromJSON({}), agentId: "agent-1" });
    await waitFor(async () => (await sla(service, "H-1")).status === "resolved", { what: "H-1 resolved" });
    const late = await post(service, "/v1/tickets/H-1/sla/pause");
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe("TICKET_RESOLVED");
  });

  it("counts accepting a chat as the first response, and an agent's reply on written channels", async () => {
    await h.triaged("F-1", Priority.P4, Channel.CHAT);
    await h.triaged("G-1", Priority.P4, Channel.EMAIL);
    await waitFor(() => h.views("F-1")[0] && h.views("G-1")[0], { what: "first views" });
    await h.assigned("F-1", "agent-2", Channel.CHAT);
    await h.message("G-1", "agent");
    const chat = await waitFor(() => h.views("F-1").find((v) => v.firstResponseDue === undefined), { what: "chat first response met" });
    const email = await waitFor(() => h.views("G-1").find((v) => v.firstResponseDue === undefined), { what: "email first response met" });
    expect(chat.resolutionDue).toBeDefined();
    expect(email.resolutionDue).toBeDefined();
    // Nothing pending before the resolution warning, minutes away.
    expect(Date.parse((await sla(service, "F-1")).nextWakeAt!)).toBeGreaterThan(Date.now() + 60_000);
    expect(Date.parse((await sla(service, "G-1")).nextWakeAt!)).toBeGreaterThan(Date.now() + 60_000);
  });

  it("escalates a repeat contact and an answer that did not help at once, once each", async () => {
    await h.publish(Topics.received, "ticketReceived", "S-1", { ...TicketReceived.fromJSON({}), channel: Channel.EMAIL });
    await h.triaged("S-1", Priority.P4, Channel.EMAIL, { repeatContactCount: 1 });
    const supervisor = await h.action("S-1", "notify_supervisor");
    expect(supervisor.source).toBe("repeatContact.1");
    expect(supervisor.level).toBe(3);
    await h.triaged("S-1", Priority.P4, Channel.EMAIL, { retriage: true, repeatContactCount: 1, answerDidNotHelp: true });
    // Level 3 was reached: a second signal climbs no further than the top of the ladder.
    await waitFor(() => h.actions("S-1").find((a) => a.source === "answerDidNotHelp.1"), { what: "answerDidNotHelp escalation" });
    await sleep(1_000);
    expect(duplicateKeys(h.ofTicket("S-1"))).toEqual([]);
    expect(h.actions("S-1").filter((a) => a.source === "repeatContact.1")).toHaveLength(1);
  });
});

describe("escalation restarted between a warning and a breach", () => {
  const h = new Harness("escalation-restart");
  beforeAll(() => h.open());
  afterAll(() => h.close());

  it("still breaches exactly once and does not warn again", async () => {
    const first = await h.start();
    const start = new Date();
    // P4: warning at 9 s, breach at 12 s.
    await h.triaged("R-1", Priority.P4, Channel.EMAIL, {}, start);
    await h.action("R-1", "sla_warning");
    expect(h.actions("R-1").map((a) => a.action)).not.toContain("sla_breach");
    const stopping = Date.now();
    await h.stop(first);
    const stoppedAt = Date.now();
    expect(stoppedAt).toBeLessThan(start.getTime() + 12_000);

    const second = await h.start();
    const breach = await h.action("R-1", "sla_breach");
    // Published by the new instance: the old one was gone before the breach was due.
    expect(breach.at.getTime()).toBeGreaterThanOrEqual(stoppedAt);
    console.log(`[measure] restart: close took ${stoppedAt - stopping} ms; breach published ${breach.at.getTime() - ms(breach.dueAt)} ms after due by the new instance`);
    await h.action("R-1", "notify_supervisor");
    await sleep(2_000);
    const names = h.actions("R-1").map((a) => a.action);
    expect(names.filter((n) => n === "sla_warning")).toHaveLength(1);
    expect(names.filter((n) => n === "sla_breach")).toHaveLength(1);
    expect(duplicateKeys(h.ofTicket("R-1"))).toEqual([]);
    expect((await sla(second, "R-1")).view?.breaches.map((b) => b.clockId)).toEqual(["firstResponse.1"]);
  });
});

describe("two escalation instances over one store and consumer group", () => {
  const h = new Harness("escalation-pair");
  let a: RunningEscalation;
  let b: RunningEscalation;
  beforeAll(async () => {
    await h.open();
    [a, b] = await Promise.all([h.start({ STEWARD_INSTANCE_ID: "pair-a" }), h.start({ STEWARD_INSTANCE_ID: "pair-b" })]);
  });
  afterAll(() => h.close());

  it("performs every warning, breach and ladder action exactly once", async () => {
    const tickets = Array.from({ length: 24 }, (_, i) => `C-${i}`);
    await Promise.all(tickets.map((id, i) => h.triaged(id, i % 2 === 0 ? Priority.P1 : Priority.P2, Channel.EMAIL)));
    await waitFor(() => tickets.every((id) => h.actions(id).some((x) => x.action === "notify_supervisor")), {
      what: "every ticket escalated to its supervisor",
      timeoutMs: 45_000,
    });
    await sleep(3_000);
    expect(duplicateKeys(h.seen)).toEqual([]);
    for (const id of tickets) {
      const names = h.actions(id).map((x) => x.action);
      expect(
        names.filter((n) => n === "sla_warning"),
        id,
      ).toHaveLength(1);
      expect(
        names.filter((n) => n === "sla_breach"),
        id,
      ).toHaveLength(1);
      expect(
        names.filter((n) => n === "widen_routing"),
        id,
      ).toHaveLength(1);
      expect(h.notifications(id), id).toHaveLength(1);
    }
    // P2 tickets were raised to P1 at the warning, once.
    expect(
      h
        .actions("C-1")
        .filter((x) => x.action === "raise_priority")
        .map((x) => x.priority),
    ).toEqual([Priority.P1]);
    const store = await connectStore(h.env.mongoUri, h.env.database);
    try {
      const owners = await new SlaStore(store.db).actions.aggregate<{ _id: string; n: number }>([{ $group: { _id: "$owner", n: { $sum: 1 } } }]).toArray();
      console.log(`[measure] actions performed per instance: ${owners.map((o) => `${o._id}=${o.n}`).join(", ")}`);
    } finally {
      await store.close();
    }
    // Both answer from the same store.
    expect((await sla(a, "C-0")).view).toEqual((await sla(b, "C-0")).view);
  });
});

describe("SLA policy reload", () => {
  const h = new Harness("escalation-policy");
  let dir: string;
  let file: string;
  let service: RunningEscalation;

  async function writePolicy(version: string, p3EmailFirstResponseSeconds: number): Promise<void> {
    const doc = JSON.parse(await readFile(SECONDS_POLICY, "utf8")) as { version: string; targets: Record<string, Record<string, Record<string, object>>> };
    doc.version = version;
    doc.targets["P3"]!["email"]!["firstResponse"] = { seconds: p3EmailFirstResponseSeconds };
    await writeFile(file, JSON.stringify(doc));
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "steward-escalation-"));
    file = join(dir, "policy.json");
    await writePolicy("reload.1", 300);
    await h.open();
    service = await h.start({ ESCALATION_POLICY_FILE: file });
  });
  afterAll(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("recomputes open deadlines once and shows the new version", async () => {
    const start = new Date();
    await h.triaged("P-1", Priority.P3, Channel.EMAIL, {}, start);
    await h.triaged("P-2", Priority.P3, Channel.EMAIL, {}, start);
    const before = await waitFor(() => h.views("P-1")[0], { what: "first view of P-1" });
    expect(before.policyVersion).toBe("reload.1");
    expect(ms(before.firstResponseDue)).toBe(start.getTime() + 300_000);
    await h.publish(Topics.routing, "ticketResolved", "P-2", { ...TicketResolved.fromJSON({}), agentId: "agent-1" });
    await waitFor(async () => (await sla(service, "P-2")).status === "resolved", { what: "P-2 resolved" });

    const invalid = JSON.parse(await readFile(file, "utf8")) as { warningShare: number };
    invalid.warningShare = 2;
    await writeFile(file, JSON.stringify(invalid));
    const refused = await post(service, "/v1/sla/policy/reload");
    expect(refused.status).toBe(422);
    const refusal = (await refused.json()) as { error: { code: string; details: string[] } };
    expect(refusal.error.code).toBe("INVALID_SLA_POLICY");
    expect(refusal.error.details[0]).toMatch(/^warningShare: /);

    await writePolicy("reload.2", 120);
    const reload = await post(service, "/v1/sla/policy/reload");
    expect(reload.status).toBe(200);
    expect(await reload.json()).toMatchObject({ changed: true, version: "reload.2", previousVersion: "reload.1" });
    const after = await waitFor(() => h.views("P-1").find((v) => v.policyVersion === "reload.2"), { what: "view of P-1 on reload.2" });
    // The time already counted is kept; the deadline moves to the new target from the start.
    expect(ms(after.firstResponseDue)).toBe(start.getTime() + 120_000);
    const policy = (await (await fetch(`${service.httpUrl}/v1/sla/policy`, { headers: await asAdmin() })).json()) as { version: string; seq: number };
    expect(policy.version).toBe("reload.2");

    const again = await post(service, "/v1/sla/policy/reload");
    expect(await again.json()).toMatchObject({ changed: false, version: "reload.2" });
    await sleep(2_000);
    expect(h.views("P-1").filter((v) => v.policyVersion === "reload.2")).toHaveLength(1);
    expect((await sla(service, "P-1")).view?.policy).toBe("reload.2");
    // A resolved ticket keeps the policy it was measured with.
    expect((await sla(service, "P-2")).view?.policy).toBe("reload.1");
  });
});

describe("one ticket's inputs arriving together", () => {
  const h = new Harness("escalation-coalesce");
  let received: Envelope;
  let service: RunningEscalation;
  beforeAll(async () => {
    await h.open();
    // Now, not when the file is loaded: an SLA started long ago would breach, and the breach is a write.
    const start = new Date();
    received = newEnvelope("ticketReceived", "K-1", { ...TicketReceived.fromJSON({}), channel: Channel.CHAT }, "test", { occurredAt: start });
    // Waiting on three topics before escalation starts: its first fetch usually brings all four.
    await h.publishEnvelope(Topics.received, received);
    await h.triaged("K-1", Priority.P3, Channel.CHAT, {}, new Date(start.getTime() + 10));
    await h.assigned("K-1", "agent-9", Channel.CHAT);
    await h.publish(Topics.routing, "ticketResolved", "K-1", { ...TicketResolved.fromJSON({}), agentId: "agent-9" });
    service = await h.start({ ESCALATION_COALESCE_MS: "500" });
  });
  afterAll(() => h.close());

  it("are applied with fewer writes and views than inputs, and a redelivery changes nothing", async () => {
    await waitFor(async () => (await sla(service, "K-1")).status === "resolved", { what: "K-1 resolved" });
    const snapshot = await sla(service, "K-1");
    // Four inputs, one write each, would make revision 4 and three views; gathered, they make one
    // (two when the consumer's first fetch did not bring all three topics at once).
    expect(snapshot.revision).toBeLessThanOrEqual(2);
    expect(snapshot.ownerId).toBe("agent-9");
    const view = await waitFor(() => h.views("K-1")[0], { what: "view of K-1" });
    // Chat's acceptance was the first response; resolved, no clock runs.
    expect(view.firstResponseDue).toBeUndefined();
    expect(view.resolutionDue).toBeUndefined();

    // The published view's flag is cleared soon after, though no other write of the ticket came.
    const store = await connectStore(h.env.mongoUri, h.env.database);
    try {
      const slas = new SlaStore(store.db);
      await waitFor(async () => (await slas.get("K-1"))?.viewDirty === false, { what: "K-1's view recorded as published" });
      await h.publishEnvelope(Topics.received, received);
      await sleep(2_500);
      expect((await slas.get("K-1"))?.rev).toBe(snapshot.revision);
    } finally {
      await store.close();
    }
    expect(h.views("K-1").length).toBeLessThanOrEqual(snapshot.revision);
    expect(Number(h.views("K-1").at(-1)!.revision)).toBe(snapshot.revision);
  });
});

/** How many store commands of a kind the service has sent (from its own /metrics). */
async function storeCommands(service: RunningEscalation, command: string): Promise<number> {
  const text = await (await fetch(`${service.httpUrl}/metrics`)).text();
  const lines = text.split("\n").filter((l) => l.startsWith("steward_store_command_duration_seconds_count{") && l.includes(`command="${command}"`) && l.includes(`outcome="ok"`));
  return lines.reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
}

describe("many tickets' inputs written behind", () => {
  const h = new Harness("escalation-bulk");
  const tickets = Array.from({ length: 12 }, (_, i) => `W-${i}`);
  let service: RunningEscalation;
  beforeAll(async () => {
    await h.open();
    // Every ticket's arrival, triage, acceptance and resolution wait on the three topics before escalation starts.
    const start = new Date();
    for (const id of tickets) {
      await h.publish(Topics.received, "ticketReceived", id, { ...TicketReceived.fromJSON({}), channel: Channel.CHAT }, start);
      await h.triaged(id, Priority.P3, Channel.CHAT, {}, new Date(start.getTime() + 10));
      await h.assigned(id, "agent-4", Channel.CHAT);
      await h.publish(Topics.routing, "ticketResolved", id, { ...TicketResolved.fromJSON({}), agentId: "agent-4" });
    }
    service = await h.start({ ESCALATION_COALESCE_MS: "1000" });
  });
  afterAll(() => h.close());

  it("are decided in memory and stored by flushes of several tickets each, with far fewer writes than inputs", async () => {
    const store = await connectStore(h.env.mongoUri, h.env.database);
    try {
      const slas = new SlaStore(store.db);
      const stored = async () => (await slas.slas.find({ _id: { $in: tickets } }).toArray()).filter((d) => d.status === "resolved");
      const docs = await waitFor(async () => ((await stored()).length === tickets.length ? await stored() : undefined), { what: "every ticket stored resolved" });
      for (const doc of docs) {
        // Four inputs on three topics, fewer writes (one per flush that had news of the ticket).
        expect(doc.rev, doc._id).toBeLessThan(4);
        expect(doc.appliedEvents, doc._id).toHaveLength(4);
      }
      // A revision carries the id of the flush that stored it: several tickets share each one.
      const writes = new Set(docs.map((d) => d.writeId));
      expect(writes.size).toBeLessThan(tickets.length / 2);
      await waitFor(async () => ((await slas.slas.countDocuments({ _id: { $in: tickets }, viewDirty: true })) === 0 ? true : undefined), {
        what: "no view left flagged unpublished",
      });
      // The twelve new tickets went in with a few insert commands (one per flush that had new ones);
      // 48 inputs cost fewer than half as many insert and update commands (the policy's activation at
      // start included), where one write per input would take 48.
      const inserts = await storeCommands(service, "insert");
      const updates = await storeCommands(service, "update");
      const revs = docs.map((d) => d.rev).join(",");
      console.log(
        `[measure] ${tickets.length} tickets, ${tickets.length * 4} inputs: ${inserts} insert and ${updates} update commands, revisions ${revs}, ${writes.size} flushes hold the last ones`,
      );
      expect(inserts).toBeGreaterThan(0);
      expect(inserts).toBeLessThanOrEqual(3);
      expect(inserts + updates).toBeLessThan((tickets.length * 4) / 2);
    } finally {
      await store.close();
    }
    for (const id of tickets) {
      const view = await waitFor(() => h.views(id).at(-1), { what: `view of ${id}` });
      expect(view.resolutionDue, id).toBeUndefined();
      expect((await sla(service, id)).ownerId, id).toBe("agent-4");
    }
  });
});
