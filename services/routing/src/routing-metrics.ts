// Routing's Prometheus series: how long decisions take, how offers end, and how long tickets wait per
// group. Built once in service.ts and handed to the matcher and the ledger, so the numbers stay beside
// the code that makes them without a global registry.
import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from "@steward/telemetry";

export interface QueueStats {
  /** Tickets waiting for an owner in the group (offered or not yet offered). */
  depth: number;
  /** How long the longest-waiting of them has waited, in milliseconds. */
  oldestWaitMs: number;
}

export interface RoutingMetrics {
  /** Starts timing one decision (engine plus the store write it leads to); call the result when done. */
  decision(trigger: "ticket" | "agent"): () => void;
  offers: Counter<string>;
  accepts: Counter<string>;
  declines: Counter<string>;
  timeouts: Counter<string>;
  /** The matcher's queues, read on every scrape (empty on an instance that is not the matcher). */
  watchQueues(read: () => Map<string, QueueStats>): void;
  /** Whether this instance is the routing leader (holds the lease), read on every scrape. */
  watchLeadership(read: () => boolean): void;
  /** One snapshot written behind: how many tickets and agents, and how long it took. */
  snapshotWritten(tickets: number, agents: number, ms: number): void;
}

export function createRoutingMetrics(registry: Registry): RoutingMetrics {
  const registers = [registry];
  const decisions = new Histogram({
    name: "steward_routing_decision_duration_seconds",
    help: "Time from the engine's decision to its offers being durably written, per trigger (a ticket or an agent became routable)",
    labelNames: ["trigger"],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  let readQueues: () => Map<string, QueueStats> = () => new Map();
  new Gauge({
    name: "steward_routing_queue_depth",
    help: "Tickets waiting for an owner, per group",
    labelNames: ["group"],
    registers,
    collect() {
      this.reset();
      for (const [group, q] of readQueues()) this.set({ group }, q.depth);
    },
  });
  new Gauge({
    name: "steward_routing_oldest_wait_seconds",
    help: "How long the longest-waiting ticket of each group has waited for an owner",
    labelNames: ["group"],
    registers,
    collect() {
      this.reset();
      for (const [group, q] of readQueues()) this.set({ group }, q.oldestWaitMs / 1000);
    },
  });
  let readLeadership: () => boolean = () => false;
  new Gauge({
    name: "steward_routing_leader",
    help: "1 on the instance that holds the routing lease and decides, 0 on the others (alert when no instance reports 1)",
    registers,
    collect() {
      this.set(readLeadership() ? 1 : 0);
    },
  });
  const snapshots = new Histogram({
    name: "steward_routing_snapshot_duration_seconds",
    help: "Time to write the leader's changed tickets and agents to the store (the snapshot written behind the routing log)",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const snapshotDocs = new Counter({ name: "steward_routing_snapshot_documents_total", help: "Documents written by routing snapshots, by kind", labelNames: ["kind"], registers });
  return {
    snapshotWritten(tickets, agents, ms) {
      snapshots.observe(ms / 1000);
      snapshotDocs.inc({ kind: "ticket" }, tickets);
      snapshotDocs.inc({ kind: "agent" }, agents);
    },
    decision: (trigger) => decisions.startTimer({ trigger }),
    offers: new Counter({ name: "steward_routing_offers_total", help: "Offers made to agents", registers }),
    accepts: new Counter({ name: "steward_routing_accepts_total", help: "Offers accepted (the agent now owns the ticket)", registers }),
    declines: new Counter({ name: "steward_routing_declines_total", help: "Offers declined by the agent", registers }),
    timeouts: new Counter({ name: "steward_routing_offer_timeouts_total", help: "Offers nobody answered before they expired", registers }),
    watchQueues(read) {
      readQueues = read;
    },
    watchLeadership(read) {
      readLeadership = read;
    },
  };
}
