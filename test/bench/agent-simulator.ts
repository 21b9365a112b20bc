// Simulated agents, a process of their own: each keeps its live-work stream (SSE) open, accepts every
// offer at once, and resolves the ticket soon after to free its capacity. Records when each ticket's
// offer and assignment reached the agent, on the clock the load generator uses.
import { Agent, Pool } from "undici";
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
  resolveFailures: number;
  offersSeen: number;
}

const streams = new Agent({ headersTimeout: 30_000, bodyTimeout: 0, connections: null });
const commandPools = new Map<string, Pool>();
let arrivals: Arrivals = { offers: new Map(), assignments: new Map(), acceptFailures: 0, resolveFailures: 0, offersSeen: 0 };
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
    const offer = JSON.parse(data) as { offerId: string; ticketId: string };
    arrivals.offersSeen += 1;
    if (!arrivals.offers.has(offer.ticketId)) arrivals.offers.set(offer.ticketId, at);
    command(gateway, `/v1/offers/${encodeURIComponent(offer.offerId)}/accept`, "POST", agentId).then(
      (code) => {
        if (code !== 200) {
          arrivals.acceptFailures += 1;
          return;
        }
        const done = nowMs();
        if (!arrivals.assignments.has(offer.ticketId)) arrivals.assignments.set(offer.ticketId, done);
        const t = setTimeout(() => {
          timers.delete(t);
          command(gateway, `/v1/tickets/${encodeURIComponent(offer.ticketId)}/resolve`, "POST", agentId).then(
            (c) => void (c === 200 || (arrivals.resolveFailures += 1)),
            () => void (arrivals.resolveFailures += 1),
          );
        }, resolveAfterMs);
        timers.add(t);
      },
      () => void (arrivals.acceptFailures += 1),
    );
  } else if (event === "assignment") {
    const item = JSON.parse(data) as { ticketId: string };
    if (!arrivals.assignments.has(item.ticketId)) arrivals.assignments.set(item.ticketId, at);
  }
}

async function openStream(gateway: string, agentId: string, resolveAfterMs: number): Promise<void> {
  const controller = new AbortController();
  controllers.push(controller);
  const res = await streams.request({ origin: gateway, path: `/v1/agents/${encodeURIComponent(agentId)}/work`, method: "GET", headers: { accept: "text/event-stream", authorization: credentials.get(agentId) ?? "" }, signal: controller.signal });
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
  res.body.on("error", () => {}); // aborted at stop
}

async function start(spec: AgentsSpec): Promise<{ agentIds: string[] }> {
  const capacity = Object.fromEntries(["email", "chat", "phone", "social", "web", "api"].map((c) => [c, spec.capacityPerChannel]));
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
        await openStream(gateway, id, spec.resolveAfterMs);
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
    arrivals = { offers: new Map(), assignments: new Map(), acceptFailures: 0, resolveFailures: 0, offersSeen: 0 };
    return out;
  },
  close: async () => {
    for (const t of timers) clearTimeout(t);
    for (const c of controllers) c.abort();
    await Promise.allSettled([...commandPools.values()].map((p) => p.close()));
    await streams.close().catch(() => undefined);
  },
});
