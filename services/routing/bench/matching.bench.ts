// Matching latency at scale: 10,000 agents and 100,000 waiting tickets built from a seeded RNG, timing both
// decisions ("a ticket arrives: pick the best agent" and "an agent frees capacity: pick the oldest eligible
// ticket") with performance.now(). Run: node services/routing/bench/matching.bench.ts [--runs 5] [--samples 20000]
import { availableParallelism, cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import {
  CHANNELS,
  RoutingEngine,
  type AgentProfile,
  type AgentStatus,
  type Channel,
  type ChannelCounts,
  type Priority,
  type SkillRequirement,
  type WaitingTicket,
} from "../src/domain/index.ts";

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : Number.NaN;
  return Number.isFinite(value) ? value : fallback;
}

const AGENTS = argument("agents", 10_000);
const TICKETS = argument("tickets", 100_000);
const RUNS = argument("runs", 5);
const SAMPLES = argument("samples", 20_000);
const WARMUP = argument("warmup", 5_000);
const SEED = argument("seed", 42);

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(SEED);
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
function weighted<T>(entries: readonly (readonly [T, number])[]): T {
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of entries) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return (entries[entries.length - 1] as readonly [T, number])[0];
}

const GROUP_COUNT = 40;
const GROUPS = Array.from({ length: GROUP_COUNT }, (_, i) => `group-${String(i).padStart(2, "0")}`);
const SKILLS_PER_GROUP = 6;
const SHARED_SKILLS = ["billing", "refunds", "vip", "security"];
const GROUP_SKILLS = new Map(GROUPS.map((group) => [group, [...Array.from({ length: SKILLS_PER_GROUP }, (_, i) => `${group}-skill-${i}`), ...SHARED_SKILLS]]));
const OVERFLOW_OF = new Map(GROUPS.map((group, i) => [group, GROUPS[(i + 1) % GROUP_COUNT] as string]));
const LANGUAGES = [
  ["en", 60],
  ["es", 12],
  ["fr", 8],
  ["de", 8],
  ["pt", 7],
  ["ja", 5],
] as const;
const CHANNEL_MIX = [
  ["email", 35],
  ["chat", 30],
  ["phone", 10],
  ["social", 10],
  ["web", 10],
  ["api", 5],
] as const;
const PRIORITY_MIX = [
  ["P1", 5],
  ["P2", 20],
  ["P3", 50],
  ["P4", 25],
] as const;
const BASE_CAPACITY: Readonly<Record<Channel, number>> = { email: 5, chat: 3, phone: 1, social: 2, web: 3, api: 2 };
const NOW = Date.UTC(2025, 0, 6, 12, 0, 0);

function buildAgent(index: number): AgentProfile & AgentStatus {
  const home = GROUPS[index % GROUP_COUNT] as string;
  const groups = new Set([home]);
  const extra = weighted([
    [0, 50],
    [1, 35],
    [2, 15],
  ] as const);
  while (groups.size < 1 + extra) groups.add(pick(GROUPS));
  const languages = new Set<string>([weighted(LANGUAGES)]);
  if (random() < 0.5) languages.add("en");
  if (random() < 0.2) languages.add(weighted(LANGUAGES));
  const skills: Record<string, number> = {};
  for (const group of groups) for (const skill of GROUP_SKILLS.get(group) as string[]) if (random() < 0.7) skills[skill] = int(1, 10);
  const capacity: ChannelCounts = {};
  const load: ChannelCounts = {};
  for (const channel of CHANNELS) {
    if (random() < 0.25) continue; // not staffed on this channel
    const cap = BASE_CAPACITY[channel];
    capacity[channel] = cap;
    // Mostly busy (the queue is long), but a slot frees somewhere now and then.
    load[channel] = random() < 0.35 ? int(0, cap - 1) : cap;
  }
  const presence = weighted([
    ["available", 80],
    ["away", 15],
    ["offline", 5],
  ] as const);
  return {
    id: `agent-${String(index).padStart(5, "0")}`,
    name: `Agent ${index}`,
    groups: [...groups],
    skills,
    languages: [...languages],
    capacity,
    presence,
    presenceChangedAt: NOW - int(0, 3_600_000),
    load,
    idleSince: NOW - int(0, 3_600_000),
  };
}

function buildTicket(index: number): WaitingTicket {
  const group = pick(GROUPS);
  const skillPool = GROUP_SKILLS.get(group) as string[];
  const requiredSkills: SkillRequirement[] = [];
  const skillCount = weighted([
    [0, 35],
    [1, 45],
    [2, 20],
  ] as const);
  const names = new Set<string>();
  while (names.size < skillCount) names.add(pick(skillPool));
  for (const name of names) requiredSkills.push({ name, minLevel: pick([3, 5, 7]), ...(random() < 0.3 ? { optional: true } : {}) });
  const enqueuedAt = NOW - int(0, 60 * 60_000);
  // Overflow is configured per group (tier 2 overflows into its neighbour), and triage sets it on 60%.
  const overflow = random() < 0.6 ? OVERFLOW_OF.get(group) : undefined;
  return {
    id: `ticket-${String(index).padStart(6, "0")}`,
    group,
    channel: weighted(CHANNEL_MIX),
    language: weighted(LANGUAGES),
    priority: weighted(PRIORITY_MIX) as Priority,
    requiredSkills,
    enqueuedAt,
    ...(random() < 0.7 ? { slaDeadline: enqueuedAt + int(15, 240) * 60_000 } : {}),
    ...(overflow !== undefined && overflow !== group ? { overflowGroup: overflow } : {}),
    ...(random() < 0.1
      ? { relaxation: { dropOptionalSkillsAfterMs: 60_000, addOverflowGroupAfterMs: 180_000, allowLanguageRelaxation: true, dropLanguageAfterMs: 30 * 60_000 } }
      : {}),
  };
}

function expectOk<T>(result: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!result.ok) throw result.error;
  return result.value;
}

interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

function percentiles(samples: Float64Array): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] as number };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

interface Samples {
  /** Wall-clock ms per decision. */
  readonly wall: Float64Array;
  /** Process CPU ms per decision: leaves out time the process sat preempted on a busy machine. */
  readonly cpu: Float64Array;
}

/** Times `decide` over `count` inputs; `now` advances 1 ms per decision so relaxation keeps moving. */
function measure(count: number, next: () => string, decide: (id: string, now: number) => void, clock: { now: number }): Samples {
  const wall = new Float64Array(count);
  const cpu = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const id = next();
    clock.now += 1;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    decide(id, clock.now);
    wall[i] = performance.now() - start;
    const used = process.cpuUsage(cpuStart);
    cpu[i] = (used.user + used.system) / 1000;
  }
  return { wall, cpu };
}

interface Run {
  readonly wall: Percentiles;
  readonly cpu: Percentiles;
}

function summarise(samples: Samples): Run {
  return { wall: percentiles(samples.wall), cpu: percentiles(samples.cpu) };
}

function report(label: string, runs: readonly Run[]): void {
  const fmt = (ms: number): string => `${(ms * 1000).toFixed(1).padStart(8)} µs`;
  for (const clock of ["wall", "cpu"] as const) {
    const line = (key: keyof Percentiles): string => `${key} ${fmt(median(runs.map((r) => r[clock][key])))}`;
    console.log(`${(clock === "wall" ? label : "").padEnd(44)} ${clock.padEnd(4)} ${line("p50")}  ${line("p90")}  ${line("p99")}  ${line("max")}`);
  }
}

function main(): void {
  // Timings on a shared machine move with its load: print it so runs can be compared fairly.
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  console.log(`node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "unknown"}), load average ${load}`);
  const buildStart = performance.now();
  const engine = new RoutingEngine();
  for (let i = 0; i < AGENTS; i++) expectOk(engine.upsertAgent(buildAgent(i), NOW));
  const ticketIds: string[] = [];
  for (let i = 0; i < TICKETS; i++) {
    const ticket = buildTicket(i);
    expectOk(engine.enqueueTicket(ticket, NOW));
    ticketIds.push(ticket.id);
  }
  const freeAgentIds = [...engine.agents()].filter((a) => a.presence === "available" && CHANNELS.some((c) => (a.capacity[c] ?? 0) > (a.load[c] ?? 0))).map((a) => a.id);
  const stats = engine.stats();
  console.log(
    `built ${stats.agents} agents (${freeAgentIds.length} available with a free slot), ${stats.waitingTickets} waiting tickets in ` +
      `${stats.queueBuckets} queue buckets, in ${((performance.now() - buildStart) / 1000).toFixed(1)} s (seed ${SEED})`,
  );

  const clock = { now: NOW };
  const randomTicket = (): string => pick(ticketIds);
  const randomFreeAgent = (): string => pick(freeAgentIds);
  let offers = 0;
  let deliveries = 0;
  const decideTicket = (id: string, now: number): void => {
    const decision = expectOk(engine.decideForTicket(id, now));
    if (decision.kind === "offer") offers++;
  };
  const decideAgent = (id: string, now: number): void => {
    const decision = expectOk(engine.decideForAgent(id, now));
    if (decision.kind === "offer") deliveries++;
  };

  // Warm up both paths (JIT, and the lazy relaxation promotions of every bucket touched).
  measure(WARMUP, randomTicket, decideTicket, clock);
  measure(WARMUP, randomFreeAgent, decideAgent, clock);
  offers = 0;
  deliveries = 0;

  const ticketRuns: Run[] = [];
  const agentRuns: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    ticketRuns.push(summarise(measure(SAMPLES, randomTicket, decideTicket, clock)));
    agentRuns.push(summarise(measure(SAMPLES, randomFreeAgent, decideAgent, clock)));
  }

  // Commit path: an agent frees a slot, takes the oldest eligible ticket, accepts it, resolves it.
  const commitRuns: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    commitRuns.push(
      summarise(
        measure(
          Math.min(SAMPLES, 5_000),
          randomFreeAgent,
          (agentId, now) => {
            const routed = expectOk(engine.routeAgent(agentId, now));
            if (routed.offer === null) return;
            expectOk(engine.acceptOffer(routed.offer.ticketId, agentId, now));
            expectOk(engine.resolveTicket(routed.offer.ticketId, agentId, now));
          },
          clock,
        ),
      ),
    );
  }

  console.log(`\nmedian of ${RUNS} runs x ${SAMPLES} decisions (after ${WARMUP} warm-up decisions per direction):`);
  report("ticket arrives -> pick best agent", ticketRuns);
  report("agent frees capacity -> pick oldest ticket", agentRuns);
  report("route agent + accept + resolve (commit path)", commitRuns);
  console.log(
    `\n(${((offers / (RUNS * SAMPLES)) * 100).toFixed(0)}% of ticket decisions found an agent; ` +
      `${((deliveries / (RUNS * SAMPLES)) * 100).toFixed(0)}% of agent decisions found a ticket; ` +
      `${engine.stats().waitingTickets} tickets still waiting)`,
  );
}

/**
 * The pathology the brief warns about: the head of the agent's queue is full of tickets it cannot take.
 * 100,000 tickets wait in one group, language and channel; 99,000 of them, all P1, need one of 2,000 rare
 * skills nobody has; the 1,000 the agents can take are P4, behind all of them.
 */
function adversarial(): void {
  const engine = new RoutingEngine();
  const agentIds: string[] = [];
  for (let i = 0; i < 200; i++) {
    const id = `adv-agent-${i}`;
    agentIds.push(id);
    expectOk(
      engine.upsertAgent(
        {
          id,
          name: id,
          groups: ["one"],
          skills: { common: int(5, 10) },
          languages: ["en"],
          capacity: { chat: 3 },
          presence: "available",
          presenceChangedAt: NOW,
          load: { chat: int(0, 2) },
          idleSince: NOW - int(0, 60_000),
        },
        NOW,
      ),
    );
  }
  const ticketIds: string[] = [];
  for (let i = 0; i < TICKETS; i++) {
    const rare = i % 100 !== 0;
    const ticket: WaitingTicket = {
      id: `adv-${i}`,
      group: "one",
      channel: "chat",
      language: "en",
      priority: rare ? "P1" : "P4",
      requiredSkills: [rare ? { name: `rare-${i % 2_000}`, minLevel: 5 } : { name: "common", minLevel: 5 }],
      enqueuedAt: NOW - int(0, 60 * 60_000),
    };
    expectOk(engine.enqueueTicket(ticket, NOW));
    if (!rare) ticketIds.push(ticket.id);
  }
  const clock = { now: NOW };
  const decideAgent = (id: string, now: number): void => {
    const decision = expectOk(engine.decideForAgent(id, now));
    if (decision.kind !== "offer") throw new Error(`expected an offer, got ${decision.kind}`);
  };
  const decideTicket = (id: string, now: number): void => {
    expectOk(engine.decideForTicket(id, now));
  };
  measure(WARMUP, () => pick(agentIds), decideAgent, clock);
  measure(WARMUP, () => pick(ticketIds), decideTicket, clock);
  const agentRuns: Run[] = [];
  const ticketRuns: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    agentRuns.push(summarise(measure(SAMPLES, () => pick(agentIds), decideAgent, clock)));
    ticketRuns.push(summarise(measure(SAMPLES, () => pick(ticketIds), decideTicket, clock)));
  }
  console.log(`\nadversarial: ${TICKETS} tickets in one lane, 99% of them ahead and needing one of 2,000 skills nobody has (${engine.stats().queueBuckets} sub-queues):`);
  report("agent frees capacity -> pick oldest ticket", agentRuns);
  report("ticket arrives -> pick best agent (200 free)", ticketRuns);
}

main();
if (!process.argv.includes("--skip-adversarial")) adversarial();
