// Keeps the ticket view current from the other services' events (triage, routing, escalation),
// so GET /v1/tickets/{id} shows status, owner, triage reasons and SLA clocks in one place; and sends
// each new ticket's acknowledgement once triage knows the customer's language. Write-behind (ADR 0015):
// events of every partition are gathered for up to a flush interval, each ticket's events become one
// guarded write onto the copy this process holds, and a batch is committed only once its flush landed.
// The fold does not depend on order: an event for a ticket whose view is not written yet is parked in a
// stub, and a ticket.received whose view is missing (intake died after the publish) completes it.
import { Topics, channelFromProto, channelToProto, escalationActionName, escalationEffectOf, priorityFromProto, type AgentReplied, type Envelope } from "@steward/proto";
import { newEnvelope, type EventBus, type Subscription, type WrittenBehind } from "@steward/messaging";
import { acknowledgementFor, ticketReference } from "./domain/acknowledgement.ts";
import { recipientOn, replyTarget } from "./domain/reply-target.ts";
import { derivedEventId } from "./domain/event-ids.ts";
import { acknowledgementDue, emptyProjection, foldViewChanges, type FoldResult, type HistoryEntry, type ViewChange } from "./domain/ticket-view.ts";
import { deliveryKey } from "./domain/submission.ts";
import { referenceThreadKey, type IdentityKey } from "./domain/customer-identity.ts";
import { isStub, type StoredView, type TicketDoc, type TicketStore } from "./ticket-store.ts";
import { TicketViews } from "./ticket-views.ts";
import { CustomerStore } from "./customer-store.ts";
import { writeAcceptedView } from "./accepted-view.ts";
import { WriteBehind } from "./write-behind.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Tickets of one flush projected at the same time (each is at most a read and a write). The store takes
 * one write at a time per database, so more in flight does not write faster; it only queues the accept
 * path's delivery records behind the whole flush instead of behind one or two updates.
 */
const TICKETS_IN_FLIGHT = 2;
/**
 * Guarded writes tried per ticket before the flush fails (and its batches are retried by the consumer).
 * One ticket is written by at most one partition of each topic at a time, so a few attempts are plenty.
 */
const WRITE_ATTEMPTS = 16;
/** How long events wait to be folded together: the view's lag behind the events (ADR 0015). */
export const DEFAULT_VIEW_FLUSH_MS = 500;
/** A flush starts early once this many tickets wait. */
const FLUSH_TICKETS = 200;

export interface ProjectorDeps {
  store: TicketStore;
  views: TicketViews;
  customers: CustomerStore;
  bus?: EventBus;
  /** A new ticket whose view the pipeline handed over and no flush has written yet (held in memory only). */
  awaitsFlush?: (ticketId: string) => boolean;
}

export interface ProjectorOptions {
  views?: TicketViews;
  customers?: CustomerStore;
  flushMs?: number;
  /** The write-behind the pipeline also hands its new views to; one of its own otherwise. */
  writer?: ViewWriter;
}

export async function startProjector(bus: EventBus, store: TicketStore, groupId = "intake-projector", opts: ProjectorOptions = {}): Promise<Subscription> {
  const writer =
    opts.writer ??
    new ViewWriter(
      { store, views: opts.views ?? new TicketViews(store), customers: opts.customers ?? new CustomerStore(store.db), bus },
      { flushMs: opts.flushMs ?? DEFAULT_VIEW_FLUSH_MS },
    );
  const deps = writer.deps;
  const subscription = await bus.subscribe({
    groupId,
    topics: [Topics.received, Topics.triaged, Topics.routing, Topics.escalation, Topics.outboundDeliveries],
    partitionsConsumedConcurrently: "all",
    // The view is written every flush interval: fetches gather for half of it (the bus caps it at 500 ms) instead of one per record
    // (a fifth cost more fetches for the same number of view writes: test/bench/README.md, 2026-12-07).
    gatherMs: Math.max(10, Math.round(writer.flushMs / 2)),
    batchHandler: async (events) => {
      const envelopes = events.map((e) => e.envelope);
      for (const e of envelopes) if (e.payload?.$case === "agentReplied") await recordReply(deps, e, e.payload.value);
      // Taken into the write-behind: the consumer fetches on, and commits these once their changes are in the store.
      return writer.take(envelopes);
    },
  });
  return {
    async stop() {
      // Batches in hand wait for a flush: write now, so the stop does not wait out the interval.
      const stopped = subscription.stop();
      await writer.close();
      await stopped;
      await writer.close();
    },
  };
}

/** A new ticket's view as the pipeline built it, with the thread links and customer keys that go with it. */
export interface AcceptedView {
  doc: TicketDoc;
  threadLinks: string[];
  customer?: { customerId: string; keys: IdentityKey[] } | undefined;
}

/**
 * A new view is written by the first flush that finds it at least one flush interval old: until then the
 * buffer holds it back, with whatever events of it came meanwhile (and the consumer's commit of them).
 * A ticket's first events (triage, queueing, the offer, often the assignment) come within moments of
 * its acceptance, so they go into the view's insert instead of updates of a document that grows with
 * each (issue 12). The view trails by at most two flush intervals plus its write (`lagMs`).
 */
interface AcceptedItem {
  accepted: AcceptedView;
  /** When the pipeline handed it over (performance.now()). */
  since: number;
}
type ViewItem = { envelope: Envelope } | AcceptedItem;

function itemsOf(envelopes: readonly Envelope[]): Array<readonly [string, ViewItem]> {
  return envelopes.filter((e) => e.ticketId && e.payload).map((e) => [e.ticketId, { envelope: e }] as const);
}

/**
 * The view's write-behind (ADR 0015): the projector's events and the pipeline's new tickets, gathered
 * for up to a flush interval. A new ticket's view goes into the store with the next flush, together
 * with the events of it that came meanwhile (one insert, usually no update), its links and its keys, in
 * one insert per collection for every new ticket of the flush; until then this process answers for it
 * from memory (reads by id, thread and reference look-ups, the customer's keys). What a crash loses
 * before a flush is rebuilt from ticket.received, which the projector only commits once it is written.
 */
export class ViewWriter {
  readonly deps: ProjectorDeps;
  readonly #buffer: WriteBehind<ViewItem>;
  /** New views not in the store yet, by ticket id, with the promise of their flush. */
  readonly #accepted = new Map<string, { view: AcceptedView; written: Promise<void> }>();
  /** Their thread keys (ticket id by key) and customer keys (customer id by hashed key). */
  readonly #links = new Map<string, string>();
  readonly #keys = new Map<string, string>();

  /** New views written with the coming flush whatever else it holds: a follow-up waits for them, or the writer closes. */
  readonly #urgent = new Set<string>();
  readonly #flushMs: number;

  constructor(deps: ProjectorDeps, opts: { flushMs?: number } = {}) {
    this.deps = deps;
    this.#flushMs = opts.flushMs ?? DEFAULT_VIEW_FLUSH_MS;
    const flushDeps: ProjectorDeps = { ...deps, awaitsFlush: (id) => this.#accepted.has(id) };
    this.#buffer = new WriteBehind<ViewItem>((items) => writeViews(flushDeps, items), {
      flushMs: this.#flushMs,
      maxKeys: FLUSH_TICKETS,
      holdBack: (ticketId, items) => this.#young(ticketId, items),
    });
    deps.views.consult(this);
  }

  get flushMs(): number {
    return this.#flushMs;
  }

  /** The longest a new view stays in memory only, before its write starts: two flush intervals. */
  get lagMs(): number {
    return 2 * this.#flushMs;
  }

  /** Other services' events; resolves once their changes are in the store (the consumer commits then). */
  project(envelopes: readonly Envelope[]): Promise<void> {
    return this.#buffer.add(itemsOf(envelopes));
  }

  /** Other services' events, for a consumer that fetches on: `durable` resolves once their changes are in the store. */
  take(envelopes: readonly Envelope[]): Promise<WrittenBehind> {
    return this.#buffer.take(itemsOf(envelopes));
  }

  /**
   * A new ticket, accepted and published: its view is written with the next flush. A failed flush
   * is reported to `failed`; the projector then writes the view from the ticket's event.
   */
  accepted(view: AcceptedView, failed: (err: unknown) => void): void {
    const id = view.doc._id;
    this.deps.views.remember(view.doc);
    for (const key of view.threadLinks) this.#links.set(key, id);
    const customer = view.customer;
    if (customer) for (const k of customer.keys) this.#keys.set(k.key, customer.customerId);
    const written = this.#buffer.add([[id, { accepted: view, since: performance.now() }]]).then(
      () => this.#settled(view),
      (err: unknown) => {
        this.#settled(view);
        failed(err);
      },
    );
    this.#accepted.set(id, { view, written });
  }

  /** The view of a new ticket not in the store yet. */
  pendingView(ticketId: string): TicketDoc | undefined {
    return this.#accepted.get(ticketId)?.view.doc;
  }

  /** The not-yet-written ticket a thread key points at. */
  pendingTicketOf(threadKey: string): TicketDoc | undefined {
    const id = this.#links.get(threadKey);
    return id === undefined ? undefined : this.pendingView(id);
  }

  /** The customer a hashed key was just linked to, before the link is in the store. */
  pendingCustomerOf(hashedKey: string): string | undefined {
    return this.#keys.get(hashedKey);
  }

  /** Writes the ticket's new view now, if it waits (before a follow-up changes it in the store). */
  async settle(ticketId: string): Promise<void> {
    const waiting = this.#accepted.get(ticketId);
    if (!waiting) return;
    this.#urgent.add(ticketId);
    this.#buffer.hurry();
    await waiting.written;
  }

  /** Writes whatever waits; resolves when every flush so far is done. */
  close(): Promise<void> {
    return this.#buffer.close();
  }

  /** Whether a flush holds the ticket's items back: a new view younger than one interval, unless a follow-up waits for it. */
  #young(ticketId: string, items: readonly ViewItem[]): boolean {
    if (this.#urgent.has(ticketId)) return false;
    const accepted = items.find((i): i is AcceptedItem => "accepted" in i);
    return accepted !== undefined && performance.now() - accepted.since < this.#flushMs;
  }

  #settled(view: AcceptedView): void {
    const id = view.doc._id;
    if (this.#accepted.get(id)?.view === view) {
      this.#accepted.delete(id);
      this.#urgent.delete(id);
    }
    for (const key of view.threadLinks) if (this.#links.get(key) === id) this.#links.delete(key);
    const customer = view.customer;
    if (customer) for (const k of customer.keys) if (this.#keys.get(k.key) === customer.customerId) this.#keys.delete(k.key);
  }
}

/** One flush: the new tickets first (inserted with the events that came for them), then every other ticket's events. */
async function writeViews(deps: ProjectorDeps, items: ReadonlyMap<string, readonly ViewItem[]>): Promise<void> {
  const fresh: Array<{ view: AcceptedView; envelopes: Envelope[] }> = [];
  const rest = new Map<string, Envelope[]>();
  for (const [ticketId, list] of items) {
    const envelopes = list.flatMap((i) => ("envelope" in i ? [i.envelope] : []));
    const accepted = list.find((i): i is AcceptedItem => "accepted" in i)?.accepted;
    if (accepted) fresh.push({ view: accepted, envelopes });
    else rest.set(ticketId, envelopes);
  }
  if (fresh.length > 0) for (const [ticketId, envelopes] of await insertAccepted(deps, fresh)) rest.set(ticketId, envelopes);
  await projectTickets(deps, rest);
}

/**
 * Inserts new tickets' links, customer keys and views, one command per collection, with this flush's
 * events folded in. Returns the tickets whose events still need the usual guarded write: a view that
 * was there already (a stub, or written by the projector from the event), or one with a follow-up.
 */
async function insertAccepted(deps: ProjectorDeps, fresh: ReadonlyArray<{ view: AcceptedView; envelopes: Envelope[] }>): Promise<Map<string, Envelope[]>> {
  const { store, customers, views } = deps;
  const later = new Map<string, Envelope[]>();
  // Links and keys first: the view is what marks the acceptance written (IntakePipeline.redeliver).
  await Promise.all([
    store.linkThreadsOfMany(fresh.map((f) => ({ ticketId: f.view.doc._id, keys: f.view.threadLinks, at: f.view.doc.createdAt }))),
    customers.linkMany(fresh.flatMap((f) => (f.view.customer ? [{ customerId: f.view.customer.customerId, keys: f.view.customer.keys, at: f.view.doc.createdAt }] : []))),
  ]);
  // Folded side by side: an acknowledgement a fold makes due is a publish, and they need not queue.
  const docs = await Promise.all(
    fresh.map(async ({ view, envelopes }): Promise<{ doc: TicketDoc; whenTaken: TicketDoc }> => {
      const doc = view.doc;
      if (envelopes.length === 0 || envelopes.some((e) => e.payload?.$case === "messageReceived")) {
        if (envelopes.length > 0) later.set(doc._id, envelopes);
        return { doc, whenTaken: doc };
      }
      const fold = await foldWithAcknowledgement(
        deps,
        doc,
        envelopes.flatMap((e) => viewChangeOf(e) ?? []),
        {},
      );
      const folded: TicketDoc = fold.entries.length === 0 ? doc : { ...doc, ...fold.set, history: [...doc.history, ...fold.entries], updatedAt: new Date(), viewRevision: 1 };
      return { doc: folded, whenTaken: doc };
    }),
  );
  const created = await store.createTickets(docs);
  docs.forEach(({ doc }, i) => {
    if (created[i] === true) {
      views.remember(doc);
      return;
    }
    // Someone wrote the view first: fold the events onto what is there, as for any ticket.
    views.forget(doc._id);
    const envelopes = fresh[i]?.envelopes ?? [];
    if (envelopes.length > 0) later.set(doc._id, envelopes);
  });
  return later;
}

/**
 * Projects events now, without waiting for a flush interval (tests, and anything that must see its
 * write before it goes on). Every ticket is tried before a failure is rethrown, so a retry redoes only
 * what did not land (re-applying is a no-op).
 */
export async function projectBatch(
  store: TicketStore,
  envelopes: readonly Envelope[],
  bus?: EventBus,
  views?: TicketViews,
  awaitsFlush?: (ticketId: string) => boolean,
): Promise<void> {
  const deps: ProjectorDeps = {
    store,
    views: views ?? new TicketViews(store),
    customers: new CustomerStore(store.db),
    ...(bus ? { bus } : {}),
    ...(awaitsFlush ? { awaitsFlush } : {}),
  };
  for (const e of envelopes) if (e.payload?.$case === "agentReplied") await recordReply(deps, e, e.payload.value);
  const byTicket = new Map<string, Envelope[]>();
  for (const envelope of envelopes) {
    if (!envelope.ticketId || !envelope.payload) continue;
    const list = byTicket.get(envelope.ticketId);
    if (list) list.push(envelope);
    else byTicket.set(envelope.ticketId, [envelope]);
  }
  await projectTickets(deps, byTicket);
}

/** Projects one event (without acknowledging): the single-event form of projectBatch. */
export function project(store: TicketStore, envelope: Envelope): Promise<void> {
  return projectBatch(store, [envelope]);
}

/** Each ticket's gathered events become (at most) one read and one guarded write. */
async function projectTickets(deps: ProjectorDeps, byTicket: ReadonlyMap<string, readonly Envelope[]>): Promise<void> {
  const tickets = [...byTicket];
  const failures: unknown[] = [];
  const worker = async () => {
    for (let next = tickets.shift(); next; next = tickets.shift()) {
      await projectTicket(deps, next[0], next[1]).catch((err: unknown) => void failures.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(TICKETS_IN_FLIGHT, tickets.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

export class ProjectionConflictError extends Error {
  readonly code = "PROJECTION_CONFLICT";
  constructor(ticketId: string) {
    super(`ticket ${ticketId} kept changing under the projector`);
    this.name = "ProjectionConflictError";
  }
}

async function projectTicket(deps: ProjectorDeps, ticketId: string, envelopes: readonly Envelope[]): Promise<void> {
  const { store, views } = deps;
  const changes = envelopes.flatMap((e) => viewChangeOf(e) ?? []);
  const received = envelopes.find((e) => e.payload?.$case === "ticketReceived");
  const ack: AckSent = {};
  for (let attempt = 1; ; attempt += 1) {
    let stored: StoredView | null = views.latest(ticketId) ?? (await views.load(ticketId));
    // A ticket.received whose view is only in memory (handed over after this flush began, so it waits
    // for the next one) is completed now too: once this flush lands the event is committed, and a crash
    // before the next flush must not leave the ticket without a view.
    if (received && (stored === null || isStub(stored) || deps.awaitsFlush?.(ticketId) === true)) {
      // Intake published the ticket but its view is not there (it died or lags between the two):
      // complete the acceptance from what it recorded before publishing.
      await completeAcceptance(deps, received);
      stored = await views.load(ticketId);
    }
    if (stored === null) {
      if (changes.length === 0) return;
      // Events before the view: park them in a stub; creating the view fills it in.
      const fold = foldViewChanges({ ...emptyProjection(), history: [] }, changes);
      if (await store.createStub(ticketId, fold, new Date())) return;
      views.forget(ticketId);
      continue;
    }
    if (!isStub(stored)) await completeFollowUps(deps, stored, envelopes);
    const fold = await foldWithAcknowledgement(deps, stored, changes, ack);
    if (fold.entries.length === 0) return;
    const at = new Date();
    if (await store.writeProjection(ticketId, stored.viewRevision, fold, at)) {
      views.applied(stored, fold, at);
      return;
    }
    views.forget(ticketId);
    if (attempt >= WRITE_ATTEMPTS) throw new ProjectionConflictError(ticketId);
    // A little jitter so writers that lost the same race do not meet again at once.
    await sleep(Math.random() * 5 * attempt);
  }
}

/** The acknowledgement's history line once published: a retried write publishes it no second time. */
interface AckSent {
  entry?: HistoryEntry | undefined;
}

/**
 * Folds the events' changes onto the view, and publishes the ticket's acknowledgement when the fold
 * makes it due (triage gave the language), adding its history line to the fold.
 */
async function foldWithAcknowledgement(deps: ProjectorDeps, stored: StoredView, changes: readonly ViewChange[], ack: AckSent): Promise<FoldResult> {
  const { bus } = deps;
  const fold = foldViewChanges(stored, changes);
  const ackEventId = derivedEventId(`acknowledgement\u0000${stored._id}`);
  const ackLanguage = bus && !isStub(stored) ? acknowledgementDue([...stored.history, ...fold.entries], ackEventId) : undefined;
  if (bus && ackLanguage !== undefined && !isStub(stored)) {
    ack.entry ??= await acknowledge(bus, stored, ackLanguage, ackEventId);
    if (ack.entry && !stored.history.some((h) => h.eventId === ack.entry?.eventId)) fold.entries.push(ack.entry);
  }
  return fold;
}

/** Writes a published ticket's view from its delivery record (idempotent; the pipeline may be doing the same). */
async function completeAcceptance(deps: ProjectorDeps, received: Envelope): Promise<void> {
  if (received.payload?.$case !== "ticketReceived") return;
  const v = received.payload.value;
  const delivery = v.integrationId ? await deps.store.findDelivery(deliveryKey(v.integrationId, v.externalId)) : null;
  const recorded = delivery?.ticketId === received.ticketId ? delivery : null;
  const created = await writeAcceptedView(
    deps,
    received,
    recorded?.threadLinks ?? [referenceThreadKey(ticketReference(received.ticketId))],
    undefined,
    recorded?.customerId === undefined ? undefined : { customerId: recorded.customerId, keys: recorded.customerKeys ?? [] },
    new Date(),
  );
  if (created) deps.views.forget(received.ticketId);
}

/**
 * A follow-up whose message the view does not show (intake died between its publish and its view write)
 * is appended here; the append is guarded by the message id, so racing the pipeline changes nothing twice.
 * (The signature block of such a follow-up is not in the event and stays out of the view.)
 */
async function completeFollowUps(deps: ProjectorDeps, view: TicketDoc, envelopes: readonly Envelope[]): Promise<void> {
  for (const e of envelopes) {
    if (e.payload?.$case !== "messageReceived") continue;
    const messageId = e.payload.value.messageId;
    if (view.messages.some((m) => m.id === messageId)) continue;
    await writeAcceptedView(deps, e, [], undefined, undefined, new Date());
    deps.views.forget(view._id);
  }
}

export class TicketViewMissingError extends Error {
  readonly code = "TICKET_VIEW_MISSING";
  constructor(ticketId: string) {
    super(`ticket ${ticketId} is not in the view yet`);
    this.name = "TicketViewMissingError";
  }
}

/** Where the acknowledgement goes on the ticket's channel: the e-mail address, the callback number, else the customer id. */
function recipientOf(t: TicketDoc): string {
  return recipientOn(t.channel, t.customer, t.channelRefs);
}

/**
 * Adds an agent's reply or internal note to the conversation (intake's own kind of write: guarded by the
 * message id, so it commutes with the projector's folds) and sends a public reply to the customer. The
 * outbound notification goes first and carries an id derived from the message: a crash between the two
 * writes sends it again with the same id (receivers de-duplicate by it), and a reply already in the view
 * is not sent again. Internal notes never leave Steward.
 */
async function recordReply(deps: ProjectorDeps, envelope: Envelope, reply: AgentReplied): Promise<void> {
  const { store, bus } = deps;
  const ticketId = envelope.ticketId;
  const ticket = await store.get(ticketId);
  // Routing knows the ticket only after intake wrote its view: a missing view is a reply to try again.
  if (!ticket) throw new TicketViewMissingError(ticketId);
  if (ticket.messages.some((m) => m.id === reply.messageId)) return;
  const visibility = reply.visibility === "internal" ? "internal" : "public";
  const target = replyTarget(ticket, reply.inReplyToMessageId);
  const at = envelope.occurredAt ?? new Date();
  if (visibility === "public" && bus) {
    await bus.publish({
      topic: Topics.outbound,
      envelope: newEnvelope(
        "notification",
        ticketId,
        {
          channel: channelToProto(target.channel),
          kind: "reply",
          recipient: target.recipient,
          language: ticket.language ?? "",
          text: reply.body,
          reference: ticketReference(ticketId),
          messageId: reply.messageId,
          inReplyTo: target.inReplyTo?.channelRefs?.["messageId"] ?? "",
        },
        "intake",
        { eventId: derivedEventId(`reply\u0000${reply.messageId}`), occurredAt: at },
      ),
    });
  }
  const sequence = (await store.nextSequence(ticketId)) ?? ticket.messageCount + 1;
  const channel = visibility === "public" ? target.channel : (channelFromProto(reply.channel) ?? ticket.channel);
  await store.appendMessage(
    ticketId,
    {
      id: reply.messageId,
      externalId: "",
      channel,
      from: "agent",
      body: reply.body,
      sequence,
      at,
      visibility,
      agentId: reply.agentId,
      ...(target.inReplyTo ? { inReplyToMessageId: target.inReplyTo.id } : {}),
    },
    {
      eventId: envelope.eventId,
      type: envelope.type,
      at,
      actor: reply.agentId,
      detail: { messageId: reply.messageId, visibility, ...(visibility === "public" ? { channel } : {}) },
    },
  );
  deps.views.forget(ticketId);
}

/**
 * Publishes the ticket's acknowledgement, which the caller found due (its history does not show it sent;
 * the event id is derived from the ticket, so a re-send is recognisable downstream too), and returns the
 * history line that marks it sent; the caller writes that line. Automatic e-mails (out-of-office replies, bulk mail) get none, so
 * two auto-responders cannot keep answering each other.
 */
async function acknowledge(bus: EventBus, ticket: TicketDoc, triagedLanguage: string, eventId: string): Promise<HistoryEntry | undefined> {
  const ticketId = ticket._id;
  if (ticket.metadata["autoSubmitted"]) return undefined;
  const ack = acknowledgementFor(ticketId, [triagedLanguage, ticket.customer.language]);
  const at = new Date();
  await bus.publish({
    topic: Topics.outbound,
    envelope: newEnvelope(
      "notification",
      ticketId,
      {
        channel: channelToProto(ticket.channel),
        kind: "acknowledgement",
        recipient: recipientOf(ticket),
        language: ack.language,
        text: ack.text,
        reference: ack.reference,
        messageId: "",
        inReplyTo: "",
      },
      "intake",
      { eventId, occurredAt: at },
    ),
  });
  return { eventId, type: "notification", at, actor: "intake", detail: { kind: "acknowledgement", language: ack.language, reference: ack.reference } };
}

/** What one event of another service changes in the view; undefined when it changes nothing. */
export function viewChangeOf(envelope: Envelope): ViewChange | undefined {
  const p = envelope.payload;
  if (!p || !envelope.ticketId) return undefined;
  const at = envelope.occurredAt ?? new Date();
  const entry = (actor?: string, detail?: Record<string, unknown>): HistoryEntry => ({
    eventId: envelope.eventId,
    type: envelope.type,
    at,
    ...(actor ? { actor } : {}),
    ...(detail ? { detail } : {}),
  });
  switch (p.$case) {
    case "ticketTriaged": {
      const t = p.value;
      const priority = priorityFromProto(t.priority) ?? null;
      return {
        entry: entry("triage", { intent: t.intent, language: t.language, priority, group: t.group, retriage: t.retriage }),
        set: {
          status: "triaged",
          language: t.language,
          intent: t.intent,
          priority,
          group: t.group,
          requiredSkills: t.requiredSkills.map((s) => ({ name: s.name, minLevel: s.minLevel, optional: s.optional })),
          triage: {
            language: t.language,
            languageConfidence: t.languageConfidence,
            intent: t.intent,
            intentConfidence: t.intentConfidence,
            priority,
            reasons: t.reasons,
            policyVersion: t.policyVersion,
            slaPolicy: t.slaPolicy,
            repeatContactCount: t.repeatContactCount,
            answerDidNotHelp: t.answerDidNotHelp,
          },
        },
        onlyIfStatusIn: ["new"],
      };
    }
    case "ticketQueued":
      return { entry: entry("routing", { group: p.value.group, reason: p.value.reason }), set: { status: "waiting" }, onlyIfStatusIn: ["new", "triaged", "offered"] };
    case "noEligibleAgent":
      return { entry: entry("routing", { group: p.value.group, reasons: p.value.reasons }), set: { status: "waiting" }, onlyIfStatusIn: ["new", "triaged", "offered"] };
    case "offerMade":
      return {
        entry: entry("routing", { agentId: p.value.agentId, offerId: p.value.offerId, why: p.value.explanation?.summary }),
        set: { status: "offered" },
        onlyIfStatusIn: ["new", "triaged", "waiting"],
      };
    case "offerClosed":
      return {
        entry: entry(p.value.agentId, { offerId: p.value.offerId, outcome: p.value.outcome, reason: p.value.reason }),
        set: { status: "waiting" },
        onlyIfStatusIn: ["offered"],
      };
    case "ticketAssigned":
      return {
        entry: entry(p.value.agentId, { offerId: p.value.offerId }),
        set: { status: "assigned", ownerId: p.value.agentId, lastOwnerId: p.value.agentId },
        onlyIfStatusIn: ["new", "triaged", "waiting", "offered"],
      };
    case "followUpRouted":
      return { entry: entry("routing", { agentId: p.value.agentId, messageId: p.value.messageId }) };
    case "ticketResolved":
      return { entry: entry(p.value.agentId), set: { status: "resolved", ownerId: null, lastOwnerId: p.value.agentId } };
    case "ticketReopened":
      return { entry: entry("customer", { ownerId: p.value.ownerId }), set: { status: "assigned", ownerId: p.value.ownerId, lastOwnerId: p.value.ownerId } };
    case "ownerReassigned":
      return {
        entry: entry(p.value.supervisorId, { from: p.value.fromAgentId, to: p.value.toAgentId, reason: p.value.reason }),
        set: { ownerId: p.value.toAgentId, lastOwnerId: p.value.toAgentId },
      };
    case "collaboratorAdded":
      return { entry: entry("escalation", { agentId: p.value.agentId, reason: p.value.reason }), addCollaborator: p.value.agentId };
    case "slaUpdated": {
      const s = p.value;
      return {
        entry: entry("escalation", { level: s.level }),
        sla: {
          policy: s.policy,
          policyVersion: s.policyVersion,
          firstResponseDue: s.firstResponseDue?.toISOString() ?? null,
          nextResponseDue: s.nextResponseDue?.toISOString() ?? null,
          resolutionDue: s.resolutionDue?.toISOString() ?? null,
          paused: s.paused,
          warnings: s.warnings,
          breaches: s.breaches,
          level: s.level,
          revision: s.revision,
        },
      };
    }
    case "outboundDelivery": {
      // Shown on the ticket (and on the message it delivered): delivered, retrying with the attempt, failed with the reason.
      const d = p.value;
      return {
        entry: entry("outbound", {
          deliveryId: d.deliveryId,
          integrationId: d.integrationId,
          kind: d.kind,
          status: d.status,
          attempt: d.attempt,
          ...(d.messageId ? { messageId: d.messageId } : {}),
          ...(d.reason ? { reason: d.reason } : {}),
          ...(d.nextAttemptAt ? { nextAttemptAt: d.nextAttemptAt.toISOString() } : {}),
        }),
      };
    }
    case "escalationAction": {
      const a = p.value;
      const effect = escalationEffectOf(a);
      // An effect this build does not know (a newer producer) is still shown, under the name it was sent with.
      const action = effect === undefined ? a.action : escalationActionName(effect);
      const priority = effect?.$case === "raisePriority" ? priorityFromProto(effect.value.to) : undefined;
      return { entry: entry("escalation", { action, level: a.level, reason: a.reason }), ...(priority ? { set: { priority } } : {}) };
    }
    default:
      return undefined;
  }
}
