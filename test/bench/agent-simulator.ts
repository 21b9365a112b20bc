// Simulated agents, a process of their own: each keeps its live-work stream (SSE) open (opening it again
// when a gateway goes away, as a browser's EventSource does), accepts every offer at once, and resolves
// the ticket soon after to free its capacity. Records when each ticket's offer and assignment reached the
// agent, on the clock the load generator uses, and which agents were told they own each ticket.
import { Agent, Pool } from "undici";
import { CHANNELS } from "@steward/proto/vocabulary";
import { generalistAgent } from "@steward/testkit";
import { signToken } from "@steward/auth/dev-keys";
import type { JWK } from "jose";
import { nowMs } from "./clock.ts";
import { serveBenchRequests } from "./ipc.ts";

export interface AgentsSpec {
  /** Routing instances' base URLs; agent i connects to gateways[i % n]. */
  gateways: string[];
  agents: number;
  capacityPerChannel: number;
  resolveAfterMs: number;
  languages: string[];
  idPrefix: string;
  /** The run's signing key (the services trust its public half): an admin token for profiles, each agent's own for its work. */
  signingKey: JWK;
}

export interface Arrivals {
  /** ticket id -> first time seen, ms on the shared clock */
  offers: Map<string, number>;
  /** ticket id -> first of: accept answered 200, `assignment` event on the stream */
  assignments: Map<string, number>;
  acceptFailures: number;
  /** Each accept answered 200: when it was sent and how long the answer took (ms, shared clock). */
  acceptAnswers: Array<[number, number]>;
  resolveFailures: number;
  offersSeen: number;
  /** Each accept answered 200: the ticket and the agent that now owns it (as the agent was told). */
  owned: Array<{ ticketId: string; agentId: string; channel: string }>;
  /**
   * Highest number of tickets one agent certainly held at once on one channel, by "agent/channel": at each
   * accept answered 200, the tickets whose accept was answered before this one was sent and whose resolve
   * was not sent yet, plus this one. A ticket whose resolve was sent may already be resolved in routing
   * (its answer lost with a gateway), so it is not counted: routing's own log is what settles those.
   */
  peakLoad: Map<string, number>;
  /** Work streams opened again after they ended. */
  reconnects: number;
}

const streams = new Agent({ headersTimeout: 30_000, bodyTimeout: 0, connections: null });
const commandPools = new Map<string, Pool>();
const emptyArrivals = (): Arrivals => ({
  offers: new Map(),
  assignments: new Map(),
  acceptFailures: 0,
  acceptAnswers: [],
  resolveFailures: 0,
  offersSeen: 0,
  owned: [],
  peakLoad: new Map(),
  reconnects: 0,
});
let arrivals: Arrivals = emptyArrivals();
/**
 * By "agent/channel": the tickets accepted (answered 200) and not answered resolved, keyed by ticket (a
 * second offer of a ticket it already owns, answered 200 again, is the same ticket), with when the accept
 * was answered and whether a resolve was sent.
 */
const held = new Map<string, Map<string, { acceptedAt: number; resolveSent: boolean }>>();
let closing = false;
const controllers: AbortController[] = [];
const timers = new Set<NodeJS.Timeout>();
/** agent id (or "admin") -> Authorization header value */
const credentials = new Map<string, string>();

function pool(gateway: string): Pool {
  let p = commandPools.get(gateway);
  if (!p) {
    p = new Pool(gateway, { connections: 32, keepAliveTimeout: 60_000 });
    commandPools.set(gateway, p);
  }
  return p;
}

async function command(gateway: string, path: string, method: "POST" | "PUT", agentId: string, body?: unknown): Promise<number> {
  const res = await pool(gateway).request({
    path,
    method,
    headers: { authorization: credentials.get(agentId) ?? "", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.body.text();
  return res.statusCode;
}

function onWork(gateway: string, agentId: string, event: string, data: string, resolveAfterMs: number): void {
  const at = nowMs();
  if (event === "offer") {
    const offer = JSON.parse(data) as { offerId: string; ticketId: string; channel?: string };
    const slot = `${agentId}/${offer.channel ?? "?"}`;
    arrivals.offersSeen += 1;
    if (!arrivals.offers.has(offer.ticketId)) arrivals.offers.set(offer.ticketId, at);
    command(gateway, `/v1/offers/${encodeURIComponent(offer.offerId)}/accept`, "POST", agentId).then(
      (code) => {
        if (code !== 200) {
          arrivals.acceptFailures += 1;
          return;
        }
        const done = nowMs();
        arrivals.acceptAnswers.push([at, done - at]);
        if (!arrivals.assignments.has(offer.ticketId)) arrivals.assignments.set(offer.ticketId, done);
        arrivals.owned.push({ ticketId: offer.ticketId, agentId, channel: offer.channel ?? "?" });
        let mine = held.get(slot);
        if (!mine) held.set(slot, (mine = new Map()));
        const certain = [...mine.values()].filter((h) => !h.resolveSent && h.acceptedAt <= at).length + 1;
        mine.set(offer.ticketId, { acceptedAt: done, resolveSent: false });
        if (certain > (arrivals.peakLoad.get(slot) ?? 0)) arrivals.peakLoad.set(slot, certain);
        resolveLater(gateway, agentId, offer.ticketId, slot, resolveAfterMs);
      },
      () => void (arrivals.acceptFailures += 1),
    );
  } else if (event === "assignment") {
    const item = JSON.parse(data) as { ticketId: string };
    if (!arrivals.assignments.has(item.ticketId)) arrivals.assignments.set(item.ticketId, at);
  }
}

/** Resolves the ticket after a while; a refused or failed resolve (a gateway down) is tried again, so the slot frees only when routing agrees. */
function resolveLater(gateway: string, agentId: string, ticketId: string, slot: string, afterMs: number): void {
  const t = setTimeout(() => {
    timers.delete(t);
    const h = held.get(slot)?.get(ticketId);
    if (h) h.resolveSent = true;
    command(gateway, `/v1/tickets/${encodeURIComponent(ticketId)}/resolve`, "POST", agentId).then(
      (c) => {
        if (c === 200) held.get(slot)?.delete(ticketId);
        else {
          arrivals.resolveFailures += 1;
          if (c >= 500 && !closing) resolveLater(gateway, agentId, ticketId, slot, 1000);
          // Refused (4xx): routing says the ticket is not this agent's to resolve any more; it is not held.
          else if (c < 500) held.get(slot)?.delete(ticketId);
        }
      },
      () => {
        arrivals.resolveFailures += 1;
        if (!closing) resolveLater(gateway, agentId, ticketId, slot, 1000);
      },
    );
  }, afterMs);
  timers.add(t);
}

/** Keeps the agent's stream open: when it ends or cannot be opened (a gateway restarting), tries again every 500 ms. */
function keepStreamOpen(gateway: string, agentId: string, resolveAfterMs: number): void {
  const again = () => {
    if (closing) return;
    arrivals.reconnects += 1;
    const t = setTimeout(() => {
      timers.delete(t);
      openStream(gateway, agentId, resolveAfterMs, again).catch(again);
    }, 500);
    timers.add(t);
  };
  openStream(gateway, agentId, resolveAfterMs, again).catch(again);
}

async function openStream(gateway: string, agentId: string, resolveAfterMs: number, onEnd?: () => void): Promise<void> {
  const controller = new AbortController();
  controllers.push(controller);
  const res = await streams.request({
    origin: gateway,
    path: `/v1/agents/${encodeURIComponent(agentId)}/work`,
    method: "GET",
    headers: { accept: "text/event-stream", authorization: credentials.get(agentId) ?? "" },
    signal: controller.signal,
  });
  if (res.statusCode !== 200) throw new Error(`work stream for ${agentId} answered ${res.statusCode}`);
  res.body.setEncoding("utf8");
  let buffer = "";
  res.body.on("data", (chunk: string) => {
    buffer += chunk;
    let sep: number;
    while ((sep = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onWork(gateway, agentId, event, data, resolveAfterMs);
    }
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd?.();
  };
  res.body.on("end", end);
  res.body.on("error", end); // the gateway went away, or aborted at stop (then onEnd does nothing)
}

async function start(spec: AgentsSpec): Promise<{ agentIds: string[] }> {
  const capacity = Object.fromEntries(CHANNELS.map((c) => [c, spec.capacityPerChannel]));
  const ids: string[] = [];
  credentials.set("admin", `Bearer ${await signToken(spec.signingKey, { subject: "bench-admin", roles: ["admin"] })}`);
  // A few at a time: the gateway stores each profile and presence change.
  for (let from = 0; from < spec.agents; from += 10) {
    const batch = Array.from({ length: Math.min(10, spec.agents - from) }, (_, k) => from + k);
    await Promise.all(
      batch.map(async (i) => {
        const id = `${spec.idPrefix}-${i}`;
        const gateway = spec.gateways[i % spec.gateways.length] as string;
        credentials.set(id, `Bearer ${await signToken(spec.signingKey, { subject: id, roles: ["agent"] })}`);
        const put = await command(gateway, `/v1/agents/${id}`, "PUT", "admin", generalistAgent(`Bench agent ${i}`, spec.languages, capacity));
        if (put !== 200) throw new Error(`agent ${id}: profile answered ${put}`);
        await openStream(gateway, id, spec.resolveAfterMs, () => keepStreamOpen(gateway, id, spec.resolveAfterMs));
        const presence = await command(gateway, `/v1/agents/${id}/presence`, "POST", id, { status: "available" });
        if (presence !== 200) throw new Error(`agent ${id}: presence answered ${presence}`);
        ids.push(id);
      }),
    );
  }
  return { agentIds: ids };
}

serveBenchRequests({
  start: (spec: AgentsSpec) => start(spec),
  /** Hands over what arrived since the last collect. */
  collect: () => {
    const out = arrivals;
    arrivals = emptyArrivals();
    return out;
  },
  close: async () => {
    closing = true;
    for (const t of timers) clearTimeout(t);
    for (const c of controllers) c.abort();
    await Promise.allSettled([...commandPools.values()].map((p) => p.destroy()));
    await streams.destroy().catch(() => undefined);
  },
});
