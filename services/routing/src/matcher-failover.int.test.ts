// Routing as deployed: three instances as separate processes (`node services/routing/src/main.ts`), agents
// answering through any of them, and the matcher's process killed with SIGKILL mid-load. Another instance
// takes the lease once it runs out, joins the consumer group once the dead member's session times out,
// rebuilds from the snapshot and the routing log and carries on. Nothing is lost and no promise is broken:
// checked in the store, in the event history and in the routing log (replayed by its checker) afterwards.
// The take-over time is printed.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Channel } from "@steward/proto";
import { createKafkaJsBus, type EventBus } from "@steward/messaging";
import { connectStore, type Store } from "@steward/store";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { RoutingEventLog, agentIn, http, publishTriaged } from "../test-support/routing-test-support.ts";
import { AgentCrowd, checkInvariants, readStore } from "../test-support/routing-load-support.ts";
import type { TicketDoc } from "./routing-store.ts";
import { createKafkaLog } from "@steward/messaging";
import { ROUTING_LOG_TOPIC, type LogEntry } from "./logged-state.ts";
import { checkRoutingLog } from "./routing-log-check.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const t = isolatedEnv("routing-failover", {
  LOG_LEVEL: "info",
  ROUTING_OFFER_TIMEOUT_REALTIME_S: "2",
  ROUTING_OFFER_TIMEOUT_ASYNC_S: "3",
  ROUTING_LEASE_MS: "6000",
  ROUTING_LEASE_RENEW_MS: "1500",
  ROUTING_TICK_MS: "200",
  ROUTING_OUTBOX_SWEEP_MS: "3000",
  ROUTING_HOLD_GRACE_MS: "4000",
});
const BATCH = 60;
const AGENTS = 10;

interface Instance {
  id: string;
  child: ChildProcess;
  url: string;
  alive: boolean;
}

const instances: Instance[] = [];
let bus: EventBus;
let log: RoutingEventLog;
let store: Store;

function spawnInstance(id: string): Promise<Instance> {
  const child = spawn(process.execPath, ["services/routing/src/main.ts"], {
    cwd: repoRoot,
    env: { ...process.env, ...t.env, STEWARD_INSTANCE_ID: id, OTEL_SDK_DISABLED: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const instance: Instance = { id, child, url: "", alive: true };
  instances.push(instance);
  child.on("exit", () => {
    instance.alive = false;
  });
  child.stderr?.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance ${id} did not start`)), 60_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (!line.includes("agent gateway listening")) return;
      instance.url = (JSON.parse(line) as { address: string }).address;
      clearTimeout(timer);
      resolve(instance);
    });
  });
}

async function statusOf(i: Instance): Promise<{ leader: boolean; state: string } | null> {
  try {
    const s = await http(i.url).status();
    return s.body["matcher"] as { leader: boolean; state: string };
  } catch {
    return null;
  }
}

beforeAll(async () => {
  await Promise.all(["p1", "p2", "p3"].map((id) => spawnInstance(id)));
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "routing-failover-test", topicPrefix: t.topicPrefix });
  log = await RoutingEventLog.start(bus);
  store = await connectStore(t.mongoUri, t.database);
}, 90_000);

afterAll(async () => {
  for (const i of instances) if (i.alive) i.child.kill("SIGTERM");
  await waitFor(() => instances.every((i) => !i.alive) || undefined, { what: "instances stopped", timeoutMs: 20_000 }).catch(() => {
    for (const i of instances) if (i.alive) i.child.kill("SIGKILL");
  });
  await log?.stop();
  await bus?.close();
  await store?.close();
});

describe("matcher fail-over", () => {
  it("survives kill -9 of the matcher's process mid-load without losing or double-assigning a ticket", async () => {
    const live = () => instances.filter((i) => i.alive).map((i) => i.url);
    for (let n = 0; n < AGENTS; n++) {
      const api = http(live()[n % live().length] as string);
      expect((await api.putAgent(`agent-${n}`, agentIn(["support"], { email: 2, chat: 1 }))).status).toBe(200);
      expect((await api.presence(`agent-${n}`, "available")).status).toBe(200);
    }
    const crowd = new AgentCrowd({ log, gateways: live, declineRate: 0.1, ignoreRate: 0.1, doubleAcceptRate: 0.2, resolveAfterMs: [100, 600], seed: 11 });
    crowd.start();
    const ids: string[] = [];
    const publish = async (prefix: string) => {
      for (let n = 0; n < BATCH; n++) {
        const id = `${prefix}-${n}`;
        ids.push(id);
        await publishTriaged(bus, id, { group: "support", channel: n % 3 === 0 ? Channel.CHAT : Channel.EMAIL });
      }
    };

    await publish("before");
    await waitFor(() => log.events.filter((e) => e.type === "ticket.assigned").length >= BATCH / 4 || undefined, { what: "assignments before the kill", timeoutMs: 60_000 });
    const leader = await waitFor(
      async () => {
        for (const i of instances.filter((x) => x.alive)) if ((await statusOf(i))?.leader) return i;
        return undefined;
      },
      { what: "the matcher's instance" },
    );
    const killedAt = Date.now();
    leader.child.kill("SIGKILL");
    await waitFor(() => !leader.alive || undefined, { what: "the leader to die" });
    const seenBeforeKill = log.events.length;
    await publish("after");

    const successor = await waitFor(
      async () => {
        for (const i of instances.filter((x) => x.alive)) {
          const s = await statusOf(i);
          if (s?.leader && s.state === "matching") return i;
        }
        return undefined;
      },
      { what: "a new matcher", timeoutMs: 45_000, intervalMs: 100 },
    );
    const leaseTakenMs = Date.now() - killedAt;
    await log.waitFor("the first offer after the kill", (e) => e.type === "offer.made" && e.ticketId.startsWith("after-"), 60_000, seenBeforeKill);
    const firstOfferMs = Date.now() - killedAt;

    const countResolved = () => store.db.collection<TicketDoc>("routing_tickets").countDocuments({ status: "resolved" });
    // Waited for without failing here: if tickets got stuck, the checks below say which promise broke.
    await waitFor(async () => (await countResolved()) === 2 * BATCH || undefined, { what: `all ${2 * BATCH} tickets resolved`, timeoutMs: 50_000, intervalMs: 500 }).catch(
      () => undefined,
    );
    await crowd.stop();
    // Capacity an instance leaked when it was killed is freed by the sweep once older than the grace period.
    const report = await waitFor(
      async () => {
        const { tickets, agents } = await readStore(store.db);
        const r = checkInvariants(log.events, tickets, agents, ids);
        return r.storeProblems.length === 0 && r.leftover.length === 0 ? r : undefined;
      },
      { what: "no capacity left held", timeoutMs: 20_000, intervalMs: 500 },
    ).catch(async () => {
      const { tickets, agents } = await readStore(store.db);
      return checkInvariants(log.events, tickets, agents, ids);
    });
    expect(report.notOffered).toEqual([]);
    expect(report.assignedTwice).toEqual([]);
    expect(report.overCapacity).toEqual([]);
    expect(report.leftover).toEqual([]);
    expect(report.storeProblems).toEqual([]);
    for (const [ticketId, winners] of crowd.stats.winners) expect({ ticketId, winners: winners.size }).toEqual({ ticketId, winners: 1 });
    expect(await countResolved()).toBe(2 * BATCH);
    expect(successor.id).not.toBe(leader.id);
    // The routing log itself, replayed as a take-over would: the record agrees.
    const routingLog = createKafkaLog({ brokers: t.brokers, clientId: "failover-check", topicPrefix: t.topicPrefix, name: ROUTING_LOG_TOPIC, retentionMs: 86_400_000 });
    const entries: LogEntry[] = [];
    await routingLog.read(0, ({ value }) => void entries.push(JSON.parse(value.toString("utf8")) as LogEntry));
    await routingLog.close();
    const { agents } = await readStore(store.db);
    const capacity = new Map(agents.map((a) => [a._id, a.capacity as Record<string, number>]));
    const checked = checkRoutingLog(entries, (agentId, channel) => capacity.get(agentId)?.[channel]);
    expect({ doubleOwners: checked.doubleOwners, overCapacity: checked.overCapacity, offersAfterResolve: checked.offersAfterResolve }).toEqual({
      doubleOwners: [],
      overCapacity: [],
      offersAfterResolve: [],
    });
    expect(ids.filter((id) => checked.last.get(id)?.status !== "resolved")).toEqual([]);
    expect(entries.filter((e) => e.type === "epoch").length).toBeGreaterThanOrEqual(2);
    process.stderr.write(
      `[routing-failover] killed ${leader.id}; ${successor.id} matching after ${leaseTakenMs} ms, first new offer after ${firstOfferMs} ms; ${JSON.stringify({ ...crowd.stats, winners: crowd.stats.winners.size })}\n`,
    );
  }, 110_000);
});
