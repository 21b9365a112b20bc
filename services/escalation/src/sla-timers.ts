// Durable SLA timers: the due times live in the store (`nextWakeAt`), so a restart loses nothing.
// Each instance polls for due tickets and also sets an in-memory timeout for the soonest wake-up it
// knows of; a due ticket is leased (conditional update) before its actions are performed, so two
// instances never work on one ticket at once. The same loop moves open tickets to a newly activated
// policy and republishes views a crashed writer left unpublished.
import type { Logger } from "@steward/telemetry";
import type { PolicyRegistry } from "./policy-registry.ts";
import type { SlaLedger } from "./sla-ledger.ts";
import type { SlaDoc, SlaStore } from "./sla-store.ts";

export interface SlaTimersDeps {
  store: SlaStore;
  ledger: SlaLedger;
  policies: PolicyRegistry;
  log: Logger;
  instanceId: string;
  pollMs: number;
  leaseMs: number;
  policyPollMs: number;
}

/** Tickets leased at once and worked on concurrently. */
const BATCH = 16;
/** Leased tickets per pass of one kind before the loop yields (the next pass continues at once). */
const MAX_PER_PASS = 256;
/** A failed attempt (broker or store unreachable) is retried after this. */
const RETRY_AFTER_MS = 2_000;
/** A view written this long ago and still not published was left behind by a failed writer. */
const UNPUBLISHED_VIEW_GRACE_MS = 5_000;
const UNPUBLISHED_VIEW_CHECK_MS = 2_000;

export class SlaTimers {
  private readonly d: SlaTimersDeps;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private lastPolicyCheck = 0;
  private lastViewCheck = 0;

  constructor(deps: SlaTimersDeps) {
    this.d = deps;
  }

  start(): void {
    this.stopped = false;
    this.schedule(Date.now());
  }

  /** Fires the loop at `at` if that is sooner than planned (a ticket written by this instance). */
  wake(at: Date): void {
    if (this.stopped) return;
    if (this.running !== undefined && at.getTime() <= Date.now()) this.again = true;
    this.schedule(at.getTime());
  }

  /** Stops after the pass in progress; no lease stays held by this instance. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(atMs: number): void {
    if (this.stopped) return;
    const now = Date.now();
    const when = Math.max(atMs, now);
    if (this.timer !== undefined && this.timerAt <= when) return;
    clearTimeout(this.timer);
    this.timerAt = when;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.run();
    }, when - now);
  }

  private async run(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.pass().catch((err: unknown) => this.d.log.error({ err }, "SLA timer pass failed"));
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    const rerun = this.again;
    this.again = false;
    this.schedule(rerun ? Date.now() : Date.now() + this.d.pollMs);
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPolicyCheck >= this.d.policyPollMs) {
      this.lastPolicyCheck = now;
      await this.d.policies.refresh();
    }
    const { store, ledger, instanceId, leaseMs } = this.d;
    await this.drain(() => store.claimDue(new Date(), instanceId, leaseMs), (doc) => ledger.performDueActions(doc));
    const seq = this.d.policies.active().seq;
    await this.drain(() => store.claimOlderPolicy(seq, new Date(), instanceId, leaseMs), (doc) => ledger.recomputePolicy(doc));
    if (now - this.lastViewCheck >= UNPUBLISHED_VIEW_CHECK_MS) {
      this.lastViewCheck = now;
      await this.drain(() => store.claimUnpublishedView(new Date(), UNPUBLISHED_VIEW_GRACE_MS, instanceId, leaseMs), (doc) => ledger.publishLeasedView(doc));
    }
  }

  /** Leases tickets in batches and works on each batch concurrently; a failure is retried later. */
  private async drain(claim: () => Promise<SlaDoc | null>, work: (doc: SlaDoc) => Promise<void>): Promise<void> {
    let done = 0;
    while (!this.stopped && done < MAX_PER_PASS) {
      const batch: SlaDoc[] = [];
      while (batch.length < BATCH) {
        const doc = await claim();
        if (doc === null) break;
        batch.push(doc);
      }
      if (batch.length === 0) return;
      done += batch.length;
      await Promise.all(
        batch.map((doc) =>
          work(doc).catch(async (err: unknown) => {
            this.d.log.warn({ err, ticketId: doc._id }, "SLA timer work failed; retrying later");
            await this.d.store.releaseLease(doc._id, this.d.instanceId, new Date(Date.now() + RETRY_AFTER_MS)).catch(() => undefined);
          }),
        ),
      );
      if (batch.length < BATCH) return;
    }
    if (done >= MAX_PER_PASS) this.again = true;
  }
}
