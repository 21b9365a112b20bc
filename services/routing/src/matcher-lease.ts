// Who runs the matcher: the instance holding the `routing_leases/matcher` document. Every instance tries to
// take or renew it every renewMs; the holder keeps it leaseMs past each renewal, so a crashed holder is
// replaced leaseMs after its last renewal: the others try again right when the lease they saw runs out,
// not up to renewMs later. Losing the lease (or failing to renew in time) stops matching.
import type { Logger } from "@steward/telemetry";
import type { RoutingStore } from "./routing-store.ts";

export interface LeaseEvents {
  /** This instance now holds the lease (term = the lease's hand-over counter). */
  acquired(term: number): Promise<void>;
  /** This instance no longer holds it (or cannot be sure it does). */
  lost(): Promise<void>;
  /**
   * The holder missed a renewal: its lease runs out in less than leaseMs - 1.5 renewMs, and this instance
   * may take it then. A hint only (a slow holder may still renew); called on every such tick.
   */
  holderLate?(): void;
}

/** How long after another instance's lease runs out this one tries to take it (clocks differ a little). */
const LEASE_EXPIRY_SLACK_MS = 20;

export class MatcherLease {
  readonly #store: RoutingStore;
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #renewMs: number;
  readonly #events: LeaseEvents;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  /** When the lease another instance holds runs out, as last read (0: unknown). */
  #othersUntil = 0;
  #term = 0;
  /** Until when this instance may act as the matcher; 0 when it is not the holder. */
  #validUntil = 0;
  #transition: Promise<void> = Promise.resolve();
  #stopped = false;
  #ticking = false;
  readonly #url: () => string | undefined;

  constructor(opts: { store: RoutingStore; owner: string; leaseMs: number; renewMs: number; events: LeaseEvents; log: Logger; url?: () => string | undefined }) {
    this.#url = opts.url ?? (() => undefined);
    this.#store = opts.store;
    this.#owner = opts.owner;
    this.#leaseMs = opts.leaseMs;
    this.#renewMs = opts.renewMs;
    this.#events = opts.events;
    this.#log = opts.log;
  }

  get owner(): string {
    return this.#owner;
  }

  get term(): number {
    return this.#term;
  }

  /** True while this instance holds a lease that has not run out (with a safety margin of one renewal). */
  isHeld(now = Date.now()): boolean {
    return this.#validUntil - this.#renewMs > now;
  }

  /** First attempt awaited (a lone instance is the matcher once start resolves), then every renewMs. */
  async start(): Promise<void> {
    await this.#tick();
    await this.#transition;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    // Held by another: try again as it runs out (a crashed holder is replaced without a renewal's delay).
    const untilOthers = this.#othersUntil - Date.now() + LEASE_EXPIRY_SLACK_MS;
    const delay = this.#othersUntil > 0 ? Math.max(LEASE_EXPIRY_SLACK_MS, Math.min(this.#renewMs, untilOthers)) : this.#renewMs;
    this.#timer = setTimeout(() => {
      void this.#tick().finally(() => this.#schedule());
    }, delay);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#stopped) return;
    this.#ticking = true;
    const now = Date.now();
    try {
      const taken = await this.#store.takeLease(this.#owner, now, this.#leaseMs, this.#url());
      const lease = "heldUntil" in taken ? null : taken;
      this.#othersUntil = "heldUntil" in taken ? (taken.heldUntil ?? 0) : 0;
      if (this.#othersUntil > 0 && this.#othersUntil - now < this.#leaseMs - 1.5 * this.#renewMs) this.#events.holderLate?.();
      if (lease !== null) {
        const fresh = this.#validUntil <= now || lease.term !== this.#term;
        this.#validUntil = lease.leaseUntil;
        if (fresh) {
          this.#term = lease.term;
          this.#log.info({ term: lease.term }, "matcher lease acquired");
          const term = lease.term;
          this.#enqueue(async () => {
            try {
              await this.#events.acquired(term);
            } catch (err) {
              // Holding the lease without matching would stall routing: give it up, try again later.
              this.#log.error({ err, term }, "matcher failed to start; giving the lease up");
              this.#validUntil = 0;
              await this.#events.lost();
              await this.#store.releaseLease(this.#owner, term).catch(() => undefined);
            }
          });
        }
      } else if (this.#validUntil > 0) {
        this.#drop("matcher lease held by another instance");
      }
    } catch (err) {
      this.#log.warn({ err }, "matcher lease could not be renewed");
      if (this.#validUntil > 0 && !this.isHeld(Date.now())) this.#drop("matcher lease ran out while the store was unreachable");
    } finally {
      this.#ticking = false;
    }
  }

  #drop(why: string): void {
    this.#validUntil = 0;
    this.#log.warn({ term: this.#term }, why);
    this.#enqueue(() => this.#events.lost());
  }

  #enqueue(step: () => Promise<void>): void {
    this.#transition = this.#transition.then(step).catch((err: unknown) => this.#log.error({ err }, "matcher transition failed"));
  }

  /** Stops renewing; gives the lease up so another instance takes over without waiting for it to run out. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    while (this.#ticking) await new Promise((r) => setTimeout(r, 10));
    const held = this.#validUntil > 0;
    this.#validUntil = 0;
    if (held) this.#enqueue(() => this.#events.lost());
    await this.#transition;
    if (held) await this.#store.releaseLease(this.#owner, this.#term).catch(() => undefined);
  }
}
