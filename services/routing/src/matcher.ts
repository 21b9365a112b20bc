// The matcher: runs only in the instance holding the matcher lease. It rebuilds a RoutingEngine from the
// store, then consumes triaged tickets, agent changes, escalation events and (when the store, not the
// routing log, holds the state) other instances' routing events (consumer group `routing-matcher`),
// decides with the engine and writes each decision through the TicketLedger. Everything runs one step at
// a time (one engine, one queue); a write the store refuses means the engine was stale: that ticket or
// agent is read again, mirrored, and decided again.
import type { EventBus, IncomingEvent, Subscription } from "@steward/messaging";
import { Topics, channelFromProto, escalationEffectOf, priorityFromProto, type Envelope, type EscalationAction, type SlaUpdated, type TicketTriaged } from "@steward/proto";
import type { Logger } from "@steward/telemetry";
import {
  RoutingEngine,
  hintWith,
  keepKeys,
  noEligibleIsNews,
  pickCollaborator,
  raisePriority,
  retriagedWaitingTicket,
  ticketWithHint,
  widenRouting,
  type AgentDecision,
  type RoutingConfig as EngineConfig,
  type RoutingEscalation,
  type TicketDecision,
} from "./domain/index.ts";
import { newTicketDoc, type TriagedTicket } from "./domain-mapping.ts";
import { EngineMirror } from "./engine-mirror.ts";
import type { Outbox } from "./outbox.ts";
import { explainAgentDecision, explainTicketDecision, noEligibleReasons, pending, priorityToProto, ticketOutbox, versionOfEventId } from "./routing-events.ts";
import type { AgentDoc, TicketDoc, TicketHintDoc } from "./routing-store.ts";
import type { RoutingState } from "./routing-state.ts";
import type { LedgerOutcome, TicketLedger } from "./ticket-ledger.ts";
import type { QueueStats, RoutingMetrics } from "./routing-metrics.ts";

export interface MatcherDeps {
  store: RoutingState;
  ledger: TicketLedger;
  outbox: Outbox;
  bus: EventBus;
  log: Logger;
  engineConfig: EngineConfig;
  groupId: string;
  tickMs: number;
  sweepMs: number;
  /** A capacity hold no ticket names is treated as leaked once it is this old. */
  holdGraceMs: number;
  metrics?: RoutingMetrics;
  /** Before the rebuild: the logged state loads its snapshot and replays the log (ADR 0014). */
  takeOver?: (term: number) => Promise<Record<string, number>>;
  /** After the last step: the logged state stops acting and writes its last snapshot. */
  handBack?: () => Promise<void>;
  /** A step found this instance can no longer act as the leader (its log refused an append): start over. */
  onDeposed?: (err: Error) => void;
  /**
   * Whether other processes change tickets (ROUTING_STATE=store: every instance runs agent commands on the
   * store), so their routing events must be followed. With the routing log only the leader changes a
   * ticket and its memory is already ahead of its own events: consuming them would only decode and skip
   * them (four records a ticket; issue 12).
   */
  followTicketEvents?: boolean;
}

export interface MatcherStatus {
  state: "standby" | "rebuilding" | "matching";
  term: number | null;
  since: string | null;
  rebuild: { agents: number; tickets: number; ms: number; danglingHoldsReleased: number; missingHolds: number } | null;
  takeOver: Record<string, number> | null;
  engine: ReturnType<RoutingEngine["stats"]> | null;
  counters: Record<string, number>;
}

/** Outboxes younger than this are being published by their writer. */
const OUTBOX_GRACE_MS = 10_000;
const MAX_ATTEMPTS = 4;
const MAX_STEPS_PER_DRAIN = 20_000;
/** The matcher's consumer session: Kafka's group.min.session.timeout.ms default, the shortest it accepts. */
const MATCHER_SESSION_MS = 6_000;

export class Matcher {
  readonly #d: MatcherDeps;
  #mirror: EngineMirror | null = null;
  #subscription: Subscription | null = null;
  #queue: Promise<void> = Promise.resolve();
  #tickTimer: NodeJS.Timeout | null = null;
  #tickQueued = false;
  #sweepTimer: NodeJS.Timeout | null = null;
  #state: MatcherStatus["state"] = "standby";
  #term: number | null = null;
  #since: number | null = null;
  #rebuild: MatcherStatus["rebuild"] = null;
  #takeOver: MatcherStatus["takeOver"] = null;
  /** Work found while handling one input, done before the next input. */
  readonly #dirtyTickets = new Set<string>();
  readonly #dirtyAgents = new Set<string>();
  readonly #orphans: Array<{ ticketId: string; agentId: string }> = [];
  /** Owned tickets with a collaborator request nobody could take yet; tried again when an agent becomes available. */
  readonly #awaitingHelp = new Set<string>();
  /**
   * Escalation input stored before the ticket's triage (routing_ticket_hints), as stored: only the matcher
   * writes hints, and it loads them all at take-over, so using one at the ticket's creation needs no read.
   */
  readonly #hints = new Map<string, TicketHintDoc>();
  #helpChanged = false;
  /** ticketId -> when its requirements next loosen (decide again then). */
  readonly #relaxAt = new Map<string, number>();
  readonly #counters: Record<string, number> = { offers: 0, decisions: 0, conflicts: 0, holdRefusals: 0, expired: 0, withdrawn: 0, events: 0, skippedEvents: 0, cachedReads: 0 };

  constructor(deps: MatcherDeps) {
    this.#d = deps;
  }

  status(): MatcherStatus {
    return {
      state: this.#state,
      term: this.#term,
      since: this.#since === null ? null : new Date(this.#since).toISOString(),
      rebuild: this.#rebuild,
      takeOver: this.#takeOver,
      engine: this.#mirror?.engine.stats() ?? null,
      counters: { ...this.#counters },
    };
  }

  /** Waiting tickets per group, from the engine's mirror of the store (empty while not the matcher). */
  queues(now: number): Map<string, QueueStats> {
    const out = new Map<string, QueueStats>();
    for (const doc of this.#mirror?.ticketDocs() ?? []) {
      if (doc.status !== "waiting") continue;
      const q = out.get(doc.group) ?? { depth: 0, oldestWaitMs: 0 };
      q.depth += 1;
      q.oldestWaitMs = Math.max(q.oldestWaitMs, now - doc.enqueuedAt);
      out.set(doc.group, q);
    }
    return out;
  }

  /** Called when this instance takes the lease: rebuild from the store, then consume. */
  async start(term: number): Promise<void> {
    await this.stop();
    this.#state = "rebuilding";
    this.#term = term;
    this.#since = Date.now();
    if (this.#d.takeOver) this.#takeOver = await this.#d.takeOver(term);
    await this.#serial(() => this.#rebuildFromStore());
    this.#subscription = await this.#d.bus.subscribe({
      groupId: this.#d.groupId,
      topics: this.#d.followTicketEvents === false ? [Topics.triaged, Topics.agents, Topics.escalation] : [Topics.triaged, Topics.agents, Topics.routing, Topics.escalation],
      fromBeginning: true,
      // Store hiccups are retried here for about a minute rather than sending a ticket to dead letters.
      maxAttempts: 25,
      // A leader that was killed is still a member of this group until its session runs out, and the new
      // leader's join waits for that: with the default 10 s the take-over waited on the group, not on the
      // lease. Kafka's shortest session by default; the lease (8 s) outlasts it.
      sessionTimeoutMs: MATCHER_SESSION_MS,
      handler: (event) =>
        this.#serial(() => this.#onEvent(event)).catch((err: unknown) => {
          if (err instanceof Error && err.name === "NotLeaderError") this.#d.onDeposed?.(err);
          throw err;
        }),
    });
    this.#state = "matching";
    this.#tickTimer = setInterval(() => {
      if (this.#tickQueued) return; // a slow step: one tick waiting is enough
      this.#tickQueued = true;
      void this.#serial(() => {
        this.#tickQueued = false;
        return this.#tick();
      }).catch((err: unknown) => {
        if (err instanceof Error && err.name === "NotLeaderError") this.#d.onDeposed?.(err);
        else this.#d.log.warn({ err }, "matcher tick failed");
      });
    }, this.#d.tickMs);
    this.#tickTimer.unref();
    this.#sweepTimer = setInterval(() => void this.#serial(() => this.#sweep()).catch((err: unknown) => this.#d.log.warn({ err }, "matcher sweep failed")), this.#d.sweepMs);
    this.#sweepTimer.unref();
    this.#d.log.info({ term, ...this.#rebuild }, "matcher running");
  }

  /** Called when the lease is lost or at shutdown: stop consuming (in-flight steps finish), forget the engine. */
  async stop(): Promise<void> {
    if (this.#tickTimer) clearInterval(this.#tickTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#tickTimer = null;
    this.#sweepTimer = null;
    const subscription = this.#subscription;
    this.#subscription = null;
    if (subscription) await subscription.stop();
    await this.#queue.catch(() => undefined);
    await this.#d.handBack?.();
    if (this.#state !== "standby") this.#d.log.info({ term: this.#term }, "matcher stopped");
    this.#mirror = null;
    this.#state = "standby";
    this.#term = null;
    this.#since = null;
    this.#dirtyAgents.clear();
    this.#dirtyTickets.clear();
    this.#orphans.length = 0;
    this.#relaxAt.clear();
    this.#awaitingHelp.clear();
    this.#hints.clear();
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  // ---- rebuild ---------------------------------------------------------------------------------------------

  async #rebuildFromStore(): Promise<void> {
    const started = Date.now();
    const { store } = this.#d;
    const mirror = new EngineMirror(new RoutingEngine(this.#d.engineConfig), this.#d.engineConfig.defaultRelaxation);
    this.#mirror = mirror;
    // The one full read: agents, every ticket still waiting or owned, and any change left unpublished.
    const agents = await store.allAgents();
    for (const hint of await store.allHints()) this.#hints.set(hint._id, hint);
    const tickets = await store.liveTickets();
    const now = Date.now();
    for (const agent of agents) mirror.putAgent(agent, now);
    const live = tickets.filter((t) => t.status !== "resolved");
    // Owned work first, so every agent's load is known before pending offers are taken back.
    for (const doc of live.filter((t) => t.status === "owned")) this.#applyDoc(doc._id, doc);
    for (const doc of live.filter((t) => t.status === "waiting")) this.#applyDoc(doc._id, doc);
    const byId = new Map(live.map((t) => [t._id, t]));
    let danglingHoldsReleased = 0;
    let missingHolds = 0;
    for (const agent of agents) {
      for (const hold of Object.values(agent.holds ?? {})) {
        if (!references(byId.get(hold.ticketId), agent._id) && now - hold.at > this.#d.holdGraceMs) {
          if (await store.releaseHold(agent._id, hold.ticketId, hold.channel, hold.at)) danglingHoldsReleased++;
        }
      }
      const held = new Set(Object.values(agent.holds ?? {}).map((h) => h.ticketId));
      for (const doc of live) if (references(doc, agent._id) && !held.has(doc._id)) missingHolds++;
    }
    if (missingHolds > 0) this.#d.log.error({ missingHolds }, "tickets name agents that hold no capacity for them");
    for (const doc of tickets) if (doc.outbox.length > 0) await this.#d.outbox.republish(doc);
    for (const agent of agents) if (agent.presence === "available") this.#dirtyAgents.add(agent._id);
    this.#rebuild = { agents: agents.length, tickets: live.length, ms: Date.now() - started, danglingHoldsReleased, missingHolds };
    await this.#drain();
  }

  // ---- inputs ----------------------------------------------------------------------------------------------

  /**
   * This process's own routing events, as the outbox hands them to the bus (their change is durable): an
   * agent command the ledger ran here (accept, decline, resolve, reassign) reaches the engine at once,
   * without the round trip through Kafka. With the routing log this is the only way such a change reaches
   * the matcher; changes the matcher made itself are skipped by version, as from Kafka.
   */
  noticeOwnEvents(envelopes: readonly Envelope[]): void {
    if (this.#state === "standby") return;
    const changed = envelopes.filter((e) => e.ticketId !== "" && e.payload !== undefined && e.payload.$case !== "agentReplied");
    if (changed.length === 0) return;
    void this.#serial(async () => {
      if (this.#mirror === null) return;
      for (const e of changed) await this.#onTicketChanged(e.ticketId, e.eventId);
      await this.#drain();
    }).catch((err: unknown) => {
      if (err instanceof Error && err.name === "NotLeaderError") this.#d.onDeposed?.(err);
      else this.#d.log.warn({ err }, "matcher could not take in this process's own routing events");
    });
  }

  async #onEvent(event: IncomingEvent): Promise<void> {
    if (this.#mirror === null) throw new Error("matcher is not running");
    this.#counters["events"] = (this.#counters["events"] ?? 0) + 1;
    const e = event.envelope;
    const p = e.payload;
    try {
      await this.#onInput(event, e, p);
    } finally {
      // New tickets this step did not offer are appended now; their events go out once the log has them.
      await this.#appendDeferred();
    }
  }

  async #appendDeferred(): Promise<void> {
    for (const doc of (await this.#d.store.appendDeferred?.()) ?? []) this.#d.outbox.publishInBackground(doc._id, doc.version, doc.outbox);
  }

  async #onInput(event: IncomingEvent, e: Envelope, p: Envelope["payload"]): Promise<void> {
    switch (p?.$case) {
      case "ticketTriaged":
        await this.#onTriaged(e, p.value);
        break;
      case "agentProfileUpdated":
      case "agentPresenceChanged":
        await this.#onAgentChanged(p.value.agentId, e.eventId);
        break;
      case "slaUpdated":
        await this.#onSlaUpdated(e.ticketId, p.value);
        break;
      case "escalationAction":
        await this.#onEscalationAction(e.ticketId, p.value);
        break;
      case "agentReplied":
        // A reply changes no routing state: nothing to mirror or re-read.
        break;
      default:
        if (event.topic === Topics.routing && e.ticketId) await this.#onTicketChanged(e.ticketId, e.eventId);
        break;
    }
    await this.#drain();
  }

  async #onTriaged(e: Envelope, t: TicketTriaged): Promise<void> {
    const ticketId = e.ticketId;
    const key = `triaged:${e.eventId}`;
    const input = triagedTicketOf(ticketId, t);
    if (typeof input === "string") {
      this.#d.log.error({ ticketId, problem: input }, "triaged ticket cannot be routed; skipped");
      return;
    }
    // A ticket the engine does not know is most likely new: try to create it; a duplicate means it exists.
    let doc = this.#mirror?.ticketDoc(ticketId) ?? null;
    if (doc === null && (await this.#createTicket(input, key))) return;
    doc ??= await this.#d.ledger.fresh(ticketId);
    if (doc === null) return;
    this.#applyDoc(ticketId, doc);
    if (doc.appliedActionKeys.includes(key)) return; // a redelivery
    if (!t.retriage) return; // the same ticket triaged twice without a follow-up: nothing new
    for (let attempt = 0; attempt < MAX_ATTEMPTS && doc !== null; attempt++) {
      const outcome = await this.#onFollowUp(doc, input, key);
      if (await this.#settle(ticketId, outcome)) return;
      doc = this.#mirror?.ticketDoc(ticketId) ?? (await this.#d.ledger.fresh(ticketId));
    }
  }

  /** False when the ticket already exists. */
  async #createTicket(input: TriagedTicket, key: string): Promise<boolean> {
    const now = Date.now();
    const doc = newTicketDoc(input, now);
    // Only the matcher writes hints, and it loads them at take-over: no read.
    const hint = this.#hints.get(input.ticketId) ?? null;
    if (hint !== null) Object.assign(doc, ticketWithHint(doc, hint, this.#d.engineConfig.defaultRelaxation));
    doc.appliedActionKeys = keepKeys(doc.appliedActionKeys, key);
    doc.history = [{ at: now, version: 0, type: "ticket.queued", actor: "routing", detail: { group: doc.group, priority: doc.priority } }];
    doc.outbox = ticketOutbox(doc._id, 0, [pending("ticketQueued", { group: doc.group, priority: priorityToProto(doc.priority), reason: "triaged" })], new Date(now));
    // Held back from the routing log when this step is likely to offer it: the offer's append then carries
    // both changes (one record, one publish of both events); otherwise it is appended at the step's end.
    // Not with a hint: the hint leaves the store now, and its effect must be in the record first.
    if (!(await this.#d.store.insertTicket(doc, { receivedAt: input.receivedAt ?? null, deferAppend: hint === null }))) return false;
    this.#d.ledger.remember(doc);
    if (this.#d.store.isDeferred?.(doc._id) !== true) this.#d.outbox.publishInBackground(doc._id, 0, doc.outbox);
    if (hint !== null) {
      await this.#d.store.deleteHint(doc._id);
      this.#hints.delete(doc._id);
    }
    this.#applyDoc(doc._id, doc);
    return true;
  }

  /** A customer wrote again: to the owner (never back to a queue), a reopen, or new requirements while waiting. */
  async #onFollowUp(doc: TicketDoc, input: TriagedTicket, key: string): Promise<LedgerOutcome> {
    const { ledger } = this.#d;
    const now = Date.now();
    if (doc.status === "resolved") return ledger.reopen({ ...doc, appliedActionKeys: keepKeys(doc.appliedActionKeys, key) }, key);
    if (doc.status === "owned") {
      const route = this.#mirror?.engine.routeFollowUp(doc._id);
      const held = route?.ok === true && route.value.kind === "hold-for-owner";
      return ledger.update(
        doc,
        { appliedActionKeys: keepKeys(doc.appliedActionKeys, key) },
        [pending("followUpRouted", { agentId: doc.ownerId as string, messageId: "" })],
        [{ at: now, type: "follow.up.routed", actor: "customer", detail: { ownerId: doc.ownerId, waitsForOwner: held } }],
      );
    }
    // Still waiting: triage may have changed what the ticket needs; it keeps its place (enqueuedAt).
    return ledger.update(
      doc,
      { ...retriagedWaitingTicket(doc, input), appliedActionKeys: keepKeys(doc.appliedActionKeys, key) },
      [],
      [{ at: now, type: "ticket.retriaged", actor: "triage", detail: { group: input.group, priority: input.priority } }],
    );
  }

  async #onAgentChanged(agentId: string, eventId: string): Promise<void> {
    const version = versionOfEventId(eventId);
    const known = this.#mirror?.agentVersion(agentId);
    if (version !== null && known !== undefined && version <= known) {
      this.#counters["skippedEvents"] = (this.#counters["skippedEvents"] ?? 0) + 1;
      return;
    }
    await this.#resyncAgent(agentId, false);
  }

  /** Another instance (or an earlier step) changed a ticket: mirror it unless the engine already has that version. */
  async #onTicketChanged(ticketId: string, eventId: string): Promise<void> {
    const version = versionOfEventId(eventId);
    const known = this.#mirror?.ticketDoc(ticketId);
    if (version !== null && known !== undefined && version <= known.version) {
      this.#counters["skippedEvents"] = (this.#counters["skippedEvents"] ?? 0) + 1;
      return;
    }
    // Written by this process (an agent command served here): its copy is the stored state at that version.
    const cached = this.#d.ledger.cached(ticketId);
    if (version !== null && cached !== null && version <= cached.version) {
      this.#counters["cachedReads"] = (this.#counters["cachedReads"] ?? 0) + 1;
      this.#applyDoc(ticketId, cached);
      return;
    }
    await this.#resyncTicket(ticketId);
  }

  /** Not in the engine, and known to be resolved without reading it (the leader's recently resolved tickets). */
  #resolvedAndGone(ticketId: string): boolean {
    return this.#mirror?.ticketDoc(ticketId) === undefined && this.#d.store.knownResolved(ticketId);
  }

  async #onSlaUpdated(ticketId: string, s: SlaUpdated): Promise<void> {
    const dues = [s.firstResponseDue, s.nextResponseDue, s.resolutionDue].filter((d): d is Date => d !== undefined).map((d) => d.getTime());
    const deadline = dues.length === 0 ? null : Math.min(...dues);
    const revision = Number(s.revision);
    // The clocks' last word usually comes after the resolution: nothing to do, and no store read to learn it.
    if (this.#resolvedAndGone(ticketId)) return;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = this.#mirror?.ticketDoc(ticketId) ?? (await this.#d.store.getTicket(ticketId));
      if (doc === null) {
        await this.#updateHint(ticketId, (h) => (revision > h.slaRevision ? { ...h, slaDeadline: deadline, slaRevision: revision } : h));
        return;
      }
      if (doc.status === "resolved" || revision <= doc.slaRevision) return;
      const outcome = await this.#d.ledger.update(
        doc,
        { slaDeadline: deadline, slaRevision: revision },
        [],
        [{ at: Date.now(), type: "sla.deadline", actor: "escalation", detail: { slaDeadline: deadline, revision } }],
      );
      if (await this.#settle(ticketId, outcome)) return;
    }
  }

  async #onEscalationAction(ticketId: string, a: EscalationAction): Promise<void> {
    const effect = routingEscalationOf(a);
    if (effect === undefined) return;
    if (this.#resolvedAndGone(ticketId)) return; // resolved: nothing to change
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = this.#mirror?.ticketDoc(ticketId) ?? (await this.#d.store.getTicket(ticketId));
      if (doc === null) {
        await this.#updateHint(ticketId, (h) => hintWith(h, a.key, effect));
        return;
      }
      if (doc.status === "resolved" || doc.appliedActionKeys.includes(a.key)) return;
      const outcome = await this.#applyEscalation(doc, a, effect);
      if (outcome === null || (await this.#settle(ticketId, outcome))) return;
    }
  }

  /** Writes what the domain's escalation rules decide for the stored ticket. */
  async #applyEscalation(doc: TicketDoc, a: EscalationAction, effect: RoutingEscalation): Promise<LedgerOutcome | null> {
    const { ledger } = this.#d;
    const now = Date.now();
    const appliedActionKeys = keepKeys(doc.appliedActionKeys, a.key);
    switch (effect.kind) {
      case "raisePriority": {
        const { escalatedPriority, priority, requeue } = raisePriority(doc, effect.to);
        return ledger.update(
          doc,
          { escalatedPriority, priority, appliedActionKeys },
          requeue ? [pending("ticketQueued", { group: doc.group, priority: priorityToProto(priority), reason: `priority raised by escalation: ${a.reason}` })] : [],
          [{ at: now, type: "priority.raised", actor: "escalation", detail: { from: doc.priority, to: priority, key: a.key } }],
        );
      }
      case "widenRouting": {
        if (doc.status !== "waiting") return ledger.update(doc, { appliedActionKeys }, [], []);
        const { overflowGroup, relaxation } = widenRouting(doc, effect, this.#d.engineConfig.defaultRelaxation);
        const { relaxSkills } = effect;
        return ledger.update(
          doc,
          { relaxation, overflowGroup, appliedActionKeys },
          [
            pending("ticketQueued", {
              group: doc.group,
              priority: priorityToProto(doc.priority),
              reason: `routing widened by escalation${overflowGroup ? ` to ${overflowGroup}` : ""}${relaxSkills ? ", optional skills dropped" : ""}`,
            }),
          ],
          [{ at: now, type: "routing.widened", actor: "escalation", detail: { overflowGroup, relaxSkills, key: a.key } }],
        );
      }
      case "addCollaborator": {
        // An available agent with the role (a skill of that name) in the ticket's groups.
        if (doc.status !== "owned") return ledger.update(doc, { appliedActionKeys }, [], []);
        const role = effect.role;
        const reason = a.reason || `escalation asked for a ${role}`;
        const helper = this.#pickCollaborator(doc, role);
        if (helper === null) {
          // Nobody with the role is available now: the request waits on the ticket until someone is.
          this.#d.log.info({ ticketId: doc._id, role }, "collaborator requested; nobody with the role is available yet");
          return ledger.update(
            doc,
            { appliedActionKeys, collaboratorRequests: [...(doc.collaboratorRequests ?? []), { key: a.key, role, reason, at: now }] },
            [],
            [{ at: now, type: "collaborator.requested", actor: "escalation", detail: { role, key: a.key } }],
          );
        }
        return ledger.addCollaborator(doc, helper, reason, a.key);
      }
    }
  }

  #pickCollaborator(doc: TicketDoc, role: string): string | null {
    const engine = this.#mirror?.engine;
    return engine === undefined ? null : pickCollaborator(doc, role, engine.agents());
  }

  async #updateHint(ticketId: string, change: (h: TicketHintDoc) => TicketHintDoc): Promise<void> {
    // Read unless this matcher wrote it (a matcher whose lease just ended may have written one meanwhile).
    const known = this.#hints.get(ticketId);
    const current = known ??
      (await this.#d.store.getHint(ticketId)) ?? { _id: ticketId, slaDeadline: null, slaRevision: 0, escalatedPriority: null, widen: null, appliedActionKeys: [] };
    const next = change(current);
    if (next === current && known !== undefined) return; // nothing new: a redelivery or an older revision
    await this.#d.store.putHint(next);
    this.#hints.set(ticketId, next);
  }

  // ---- decisions -------------------------------------------------------------------------------------------

  async #tick(): Promise<void> {
    const mirror = this.#mirror;
    if (mirror === null) return;
    const now = Date.now();
    for (const ended of mirror.engine.expireDueOffers(now)) {
      // The engine ended it; the store decides. Either way the engine is then set back to what the store holds.
      const doc = mirror.ticketDoc(ended.offer.ticketId);
      if (doc === undefined) continue;
      const outcome = await this.#d.ledger.expire(doc, ended.offer.agentId);
      if (outcome.kind === "written") this.#counters["expired"] = (this.#counters["expired"] ?? 0) + 1;
      await this.#settle(doc._id, outcome);
    }
    for (const [ticketId, at] of this.#relaxAt) {
      if (at > now) continue;
      this.#relaxAt.delete(ticketId);
      this.#dirtyTickets.add(ticketId);
    }
    await this.#drain();
  }

  /** Does the work the last input uncovered: withdraw offers the engine could not keep, route tickets, then agents. */
  async #drain(): Promise<void> {
    for (let steps = 0; steps < MAX_STEPS_PER_DRAIN && this.#mirror !== null; steps++) {
      const orphan = this.#orphans.shift();
      if (orphan !== undefined) {
        await this.#withdrawOrphan(orphan.ticketId, orphan.agentId);
        continue;
      }
      const ticketId = first(this.#dirtyTickets);
      if (ticketId !== undefined) {
        this.#dirtyTickets.delete(ticketId);
        const decided = this.#d.metrics?.decision("ticket");
        await this.#routeTicket(ticketId);
        decided?.();
        continue;
      }
      const agentId = first(this.#dirtyAgents);
      if (agentId !== undefined) {
        this.#dirtyAgents.delete(agentId);
        const decided = this.#d.metrics?.decision("agent");
        await this.#routeAgent(agentId);
        decided?.();
        continue;
      }
      if (this.#helpChanged) {
        this.#helpChanged = false;
        await this.#fulfilCollaboratorRequests();
        continue;
      }
      return;
    }
  }

  async #routeTicket(ticketId: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const mirror = this.#mirror;
      const doc = mirror?.ticketDoc(ticketId);
      if (mirror === null || doc === undefined || doc.status !== "waiting") return;
      const decided = mirror.engine.decideForTicket(ticketId, Date.now());
      if (!decided.ok) return;
      const decision = decided.value;
      this.#counters["decisions"] = (this.#counters["decisions"] ?? 0) + 1;
      if (decision.kind === "offer-limit-reached") return;
      if (decision.kind === "no-eligible-agent") {
        await this.#recordNoEligible(doc, decision);
        return;
      }
      const outcome = await this.#d.ledger.makeOffers(
        doc,
        decision.agentIds.map((agentId) => ({ agentId, explanation: explainTicketDecision(decision.explanation, agentId) })),
      );
      if (outcome.kind === "written") this.#counters["offers"] = (this.#counters["offers"] ?? 0) + decision.agentIds.length;
      if (await this.#settle(ticketId, outcome)) return;
    }
  }

  async #routeAgent(agentId: string): Promise<void> {
    for (let step = 0, misses = 0; step < 50 && misses < MAX_ATTEMPTS; step++) {
      const mirror = this.#mirror;
      if (mirror === null) return;
      const decided = mirror.engine.decideForAgent(agentId, Date.now());
      if (!decided.ok) return;
      const decision: AgentDecision = decided.value;
      this.#counters["decisions"] = (this.#counters["decisions"] ?? 0) + 1;
      if (decision.kind !== "offer" && decision.kind !== "deliver-owned-work") return;
      const doc = mirror.ticketDoc(decision.ticketId);
      if (doc === undefined) return;
      const outcome =
        decision.kind === "offer"
          ? await this.#d.ledger.makeOffers(doc, [{ agentId, explanation: explainAgentDecision(decision.explanation) }])
          : await this.#d.ledger.deliverHeldWork(doc);
      if (outcome.kind === "written" && decision.kind === "offer") this.#counters["offers"] = (this.#counters["offers"] ?? 0) + 1;
      if (!(await this.#settle(decision.ticketId, outcome))) misses++;
    }
  }

  /** Nobody may take the ticket now: it keeps waiting, visibly, and is decided again when requirements loosen. */
  async #recordNoEligible(doc: TicketDoc, decision: Extract<TicketDecision, { kind: "no-eligible-agent" }>): Promise<void> {
    if (decision.nextRelaxationAt !== null) this.#relaxAt.set(doc._id, decision.nextRelaxationAt);
    // Nobody more to offer it to, but someone holds an offer: the ticket is not stuck.
    if (doc.pendingOffers.length > 0) return;
    const reasons = noEligibleReasons(decision.explanation);
    if (!noEligibleIsNews(doc.noEligible?.reasons ?? null, reasons)) return;
    const now = Date.now();
    const outcome = await this.#d.ledger.update(
      doc,
      { noEligible: { at: now, reasons, nextRelaxationAt: decision.nextRelaxationAt } },
      [pending("noEligibleAgent", { group: doc.group, reasons })],
      [{ at: now, type: "no.eligible.agent", actor: "routing", detail: { reasons } }],
    );
    await this.#settle(doc._id, outcome);
  }

  async #fulfilCollaboratorRequests(): Promise<void> {
    for (const ticketId of [...this.#awaitingHelp]) {
      const doc = this.#mirror?.ticketDoc(ticketId);
      const request = doc?.collaboratorRequests?.[0];
      if (doc === undefined || request === undefined || doc.status !== "owned") continue;
      const helper = this.#pickCollaborator(doc, request.role);
      if (helper === null) continue;
      await this.#settle(ticketId, await this.#d.ledger.addCollaborator(doc, helper, request.reason, request.key));
    }
  }

  async #withdrawOrphan(ticketId: string, agentId: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const doc = this.#mirror?.ticketDoc(ticketId);
      if (doc === undefined || !doc.pendingOffers.some((o) => o.agentId === agentId)) return;
      const agent = this.#mirror?.engine.getAgent(agentId);
      const why =
        agent === undefined ? "the agent is no longer known" : agent.presence !== "available" ? `the agent is ${agent.presence}` : "the agent no longer qualifies for this ticket";
      const outcome = await this.#d.ledger.withdraw(doc, agentId, "agent-unavailable", why);
      if (outcome.kind === "written") this.#counters["withdrawn"] = (this.#counters["withdrawn"] ?? 0) + 1;
      if (await this.#settle(ticketId, outcome)) return;
    }
  }

  /**
   * Mirrors a write, or recovers from a refusal: the store moved on (read the ticket again) or an agent's
   * hold was refused (read the agent and every ticket they hold again). True when the write went through.
   */
  async #settle(ticketId: string, outcome: LedgerOutcome): Promise<boolean> {
    switch (outcome.kind) {
      case "written":
        this.#applyDoc(ticketId, outcome.doc);
        return true;
      case "conflict": {
        this.#counters["conflicts"] = (this.#counters["conflicts"] ?? 0) + 1;
        // Lost to a newer write from this process (an agent command served here): no read needed.
        const cached = this.#d.ledger.cached(ticketId);
        const mirrored = this.#mirror?.ticketDoc(ticketId);
        if (cached !== null && mirrored !== undefined && cached.version > mirrored.version) this.#applyDoc(ticketId, cached);
        else await this.#resyncTicket(ticketId);
        return false;
      }
      case "hold-refused":
        this.#counters["holdRefusals"] = (this.#counters["holdRefusals"] ?? 0) + 1;
        await this.#resyncAgent(outcome.agentId, true);
        return false;
      case "rejected":
        this.#d.log.debug({ ticketId, code: outcome.error.code }, "engine and store disagreed; re-reading the ticket");
        await this.#resyncTicket(ticketId);
        return false;
    }
  }

  #applyDoc(ticketId: string, doc: TicketDoc | null): void {
    const mirror = this.#mirror;
    if (mirror === null) return;
    const result = mirror.putTicket(ticketId, doc, Date.now());
    for (const offer of result.orphanOffers) this.#orphans.push({ ticketId, agentId: offer.agentId });
    for (const agentId of result.freedAgents) this.#dirtyAgents.add(agentId);
    if (doc !== null && doc.status === "owned" && (doc.collaboratorRequests ?? []).length > 0) this.#awaitingHelp.add(ticketId);
    else this.#awaitingHelp.delete(ticketId);
    if (doc === null || doc.status === "resolved") this.#relaxAt.delete(ticketId);
    else if (doc.status === "waiting") this.#dirtyTickets.add(ticketId);
    else if (doc.heldForOwner && doc.ownerId !== null) this.#dirtyAgents.add(doc.ownerId);
  }

  async #resyncTicket(ticketId: string): Promise<void> {
    const doc = await this.#d.ledger.fresh(ticketId);
    if (doc !== null && doc.outbox.length > 0 && Date.now() - doc.outboxAt > OUTBOX_GRACE_MS) await this.#d.outbox.republish(doc);
    this.#applyDoc(ticketId, doc);
  }

  /** Reads an agent again; `deep` also re-reads every ticket they hold a slot for and frees leaked slots. */
  async #resyncAgent(agentId: string, deep: boolean): Promise<void> {
    const mirror = this.#mirror;
    if (mirror === null) return;
    const doc = await this.#d.store.getAgent(agentId);
    const now = Date.now();
    if (doc === null) {
      const removed = mirror.engine.removeAgent(agentId, now);
      if (removed.ok) for (const ended of removed.value.withdrawnOffers) this.#orphans.push({ ticketId: ended.offer.ticketId, agentId });
      return;
    }
    for (const ended of mirror.putAgent(doc, now)) this.#orphans.push({ ticketId: ended.offer.ticketId, agentId });
    if (deep) await this.#checkHolds(doc, now);
    if (doc.presence === "available") {
      this.#dirtyAgents.add(agentId);
      if (this.#awaitingHelp.size > 0) this.#helpChanged = true;
    }
  }

  async #checkHolds(agent: AgentDoc, now: number): Promise<void> {
    const mirror = this.#mirror;
    if (mirror === null) return;
    const held = new Set<string>();
    for (const hold of Object.values(agent.holds ?? {})) {
      held.add(hold.ticketId);
      const ticket = await this.#d.store.getTicket(hold.ticketId);
      this.#applyDoc(hold.ticketId, ticket);
      if (!references(ticket ?? undefined, agent._id) && now - hold.at > this.#d.holdGraceMs) await this.#d.store.releaseHold(agent._id, hold.ticketId, hold.channel, hold.at);
    }
    // Tickets the engine believes hold this agent but the agent's holds do not name: the engine is stale.
    for (const doc of [...mirror.ticketDocs()]) {
      if (!held.has(doc._id) && references(doc, agent._id)) await this.#resyncTicket(doc._id);
    }
  }

  /** Republishes changes a crashed instance stored but did not publish, and frees capacity leaked by crashes. */
  async #sweep(): Promise<void> {
    const mirror = this.#mirror;
    if (mirror === null) return;
    const now = Date.now();
    const stale = await this.#d.store.staleOutboxes(now - OUTBOX_GRACE_MS);
    for (const doc of stale) await this.#d.outbox.republish(doc);
    for (const agent of await this.#d.store.allAgents()) {
      const suspicious = Object.values(agent.holds ?? {}).some((h) => now - h.at > this.#d.holdGraceMs && !references(mirror.ticketDoc(h.ticketId), agent._id));
      if (suspicious) await this.#checkHolds(agent, now);
    }
    await this.#drain();
  }
}

/** Does the stored ticket hold a slot of this agent (a pending offer, or owned work in their load)? */
function references(doc: TicketDoc | undefined, agentId: string): boolean {
  if (doc === undefined) return false;
  if (doc.pendingOffers.some((o) => o.agentId === agentId)) return true;
  return doc.status === "owned" && doc.ownerId === agentId && !doc.heldForOwner;
}

function first<T>(set: Set<T>): T | undefined {
  const next = set.values().next();
  return next.done === true ? undefined : next.value;
}

const ISO_639_1 = /^[a-z]{2}$/;

/** The routing part of a triage decision, or why it cannot be routed. */
export function triagedTicketOf(ticketId: string, t: TicketTriaged): TriagedTicket | string {
  if (!ticketId) return "no ticket id";
  if (!t.group) return "no group";
  if (!ISO_639_1.test(t.language)) return `language "${t.language}" is not an ISO 639-1 code`;
  const skills = new Map<string, { name: string; minLevel: number; optional: boolean }>();
  for (const s of t.requiredSkills) {
    if (!s.name) continue;
    const minLevel = Math.min(10, Math.max(1, Math.round(s.minLevel || 1)));
    const previous = skills.get(s.name);
    // A skill listed twice keeps its strictest form.
    skills.set(s.name, { name: s.name, minLevel: Math.max(minLevel, previous?.minLevel ?? 0), optional: s.optional && (previous?.optional ?? true) });
  }
  return {
    ticketId,
    channel: channelFromProto(t.channel) ?? "api",
    group: t.group,
    overflowGroup: t.overflowGroup && t.overflowGroup !== t.group ? t.overflowGroup : null,
    language: t.language,
    priority: priorityFromProto(t.priority) ?? "P3",
    requiredSkills: [...skills.values()],
    subject: t.subject,
    receivedAt: !t.retriage && t.ticketReceivedAt ? t.ticketReceivedAt.getTime() : null,
  };
}

/** The escalation effects routing acts on, as the domain names them; the others (notices) are for people. */
function routingEscalationOf(a: EscalationAction): RoutingEscalation | undefined {
  const effect = escalationEffectOf(a);
  switch (effect?.$case) {
    case "raisePriority": {
      const to = priorityFromProto(effect.value.to);
      return to === undefined ? undefined : { kind: "raisePriority", to };
    }
    case "widenRouting":
      return { kind: "widenRouting", relaxSkills: effect.value.relaxSkills, addGroups: effect.value.addGroups };
    case "addCollaborator":
      return { kind: "addCollaborator", role: effect.value.role };
    default:
      return undefined;
  }
}
