// Presence follows the connection (docs/adr/0013): counts this instance's live work streams per agent
// (SSE and gRPC StreamWork alike), and once an agent's last one has stayed closed for the grace period,
// sets them away as the "system" so offers stop going to a desk nobody watches; a stream that opens
// again sets them available, if the system was who set them away. The decisions are the domain's.
import { newEnvelope, type EventBus } from "@steward/messaging";
import { Topics } from "@steward/proto";
import type { Logger } from "@steward/telemetry";
import { SYSTEM_ACTOR, presenceAfterDisconnect, presenceOnReconnect } from "./domain/index.ts";
import type { AgentDirectory } from "./agents.ts";
import { PRODUCER } from "./routing-events.ts";
import type { AgentDoc } from "./routing-store.ts";

export interface StreamPresenceDeps {
  agents: AgentDirectory;
  /** Presence changes the system makes are audited like a person's (principal "system"). */
  bus: EventBus;
  log: Logger;
  graceMs: number;
}

export class StreamPresence {
  readonly #d: StreamPresenceDeps;
  readonly #open = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: StreamPresenceDeps) {
    this.#d = deps;
  }

  /** A live stream for the agent opened; returns what to call when it closes (once, however often called). */
  opened(agentId: string): () => void {
    this.#open.set(agentId, (this.#open.get(agentId) ?? 0) + 1);
    const timer = this.#timers.get(agentId);
    if (timer !== undefined) {
      // Back within the grace: presence was never touched.
      clearTimeout(timer);
      this.#timers.delete(agentId);
    } else {
      this.#track(this.#change(agentId, Date.now(), "reconnect"));
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#streamClosed(agentId);
    };
  }

  /** Streams this instance holds for the agent now. */
  openStreams(agentId: string): number {
    return this.#open.get(agentId) ?? 0;
  }

  /** Stops every pending timer and waits for changes under way (service shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#inFlight]);
  }

  #streamClosed(agentId: string): void {
    const left = (this.#open.get(agentId) ?? 1) - 1;
    if (left > 0) {
      this.#open.set(agentId, left);
      return;
    }
    this.#open.delete(agentId);
    if (this.#closed) return;
    const closedAt = Date.now();
    const timer = setTimeout(() => {
      this.#timers.delete(agentId);
      this.#track(this.#change(agentId, closedAt, "disconnect"));
    }, this.#d.graceMs);
    timer.unref();
    this.#timers.set(agentId, timer);
  }

  #track(work: Promise<void>): void {
    const tracked = work.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  async #change(agentId: string, closedAt: number, on: "disconnect" | "reconnect"): Promise<void> {
    try {
      const decide = on === "disconnect" ? (a: AgentDoc) => presenceAfterDisconnect(a, closedAt) : (a: AgentDoc) => presenceOnReconnect(a);
      let changed = false;
      const doc = await this.#d.agents.setPresence(agentId, "away", { actor: SYSTEM_ACTOR }, Date.now(), (current) => {
        // A stream opened again while the grace ran out: leave the presence alone.
        if (on === "disconnect" && this.openStreams(agentId) > 0) return null;
        const change = decide(current);
        changed = change !== null;
        return change;
      });
      if (doc === null || !changed) return;
      this.#d.log.info({ agentId, presence: doc.presence, reason: doc.presenceReason }, "presence changed by the system");
      await this.#audit(agentId, on === "disconnect" ? "agent.presence.disconnected" : "agent.presence.reconnected");
    } catch (err) {
      // The next stream event decides again; the agent can always set their presence themselves.
      this.#d.log.warn({ err, agentId, on }, "presence could not follow the connection");
    }
  }

  async #audit(agentId: string, action: string): Promise<void> {
    const envelope = newEnvelope(
      "auditRecorded",
      agentId,
      { principalType: SYSTEM_ACTOR, principalId: PRODUCER, roles: [], action, resourceType: "agent", resourceId: agentId, status: 200, transport: "internal" },
      PRODUCER,
    );
    await this.#d.bus.publish({ topic: Topics.audit, envelope });
  }
}
