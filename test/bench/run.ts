// `npm run bench`: end-to-end throughput and latency of the real Steward system, measured against the
// floor of the same Kafka hops with no logic, and the two Kafka clients compared through the EventBus.
// Starts its own Kafka and FerretDB (or uses KAFKA_BROKERS / MONGODB_URI), every service as a child
// process, simulated agents, and an open-loop load generator in a process of its own. See README.md.
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { stopKafka } from "@steward/infra/kafka";
import { stopFerretDb } from "@steward/infra/ferretdb";
import { cpus, totalmem, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { provisionInfra, type ProvisionedInfra } from "@steward/testkit";
import { nowMs, sleep } from "./clock.ts";
import { forkBenchChild, type BenchChild } from "./ipc.ts";
import { parseOptions, type BenchOptions, type PhaseName } from "./options.ts";
import { ProcessMonitor, cpuBetween, type CpuSnapshot, type CpuUse } from "./proc-stats.ts";
import { summarize, round, type LatencySummary } from "./stats.ts";
import { startFloor, startSteward, type RunningSystem } from "./systems.ts";
import type { GeneratorResult } from "./load-generator.ts";
import type { Arrivals } from "./agent-simulator.ts";
import type { StoreOpStats } from "./store-trace.ts";
import {
  kafkaRequestsBetween,
  snapshotServiceMetrics,
  storeStatementsBetween,
  timingsBetween,
  type KafkaRequestStats,
  type MetricsSnapshot,
  type StoreStatementStats,
  type TimingStats,
} from "./service-metrics.ts";
import { freePort } from "./systems.ts";
import { monotonicUs, summarizeProfile, type MonotonicWindow, type ProfileSummary } from "./cpu-profile.ts";
import { writeResults } from "./write-results.ts";
import { agentLanguages } from "./triage-languages.ts";
import { epochToMonotonic, hopProfile, readStageTimes, type HopProfile, type TicketTimes } from "./hop-profile.ts";
import { readGcPauses, type GcPauses } from "./broker-gc.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const here = fileURLToPath(new URL("./", import.meta.url));

export interface StepResult {
  rate: number;
  durationS: number;
  sent: number;
  accepted: number;
  errors: { non202: number; timeouts: number; connection: number; lost: number; unassigned: number; rate: number };
  intakeAnswer: LatencySummary;
  intakeToOffer: LatencySummary;
  intakeToAssignment: LatencySummary | null;
  /** Steward only: how long an agent's accept took to be answered (sent in the measured window). */
  acceptAnswer: LatencySummary | null;
  /** Offers (any ticket) that reached agents during the measured window, per second. */
  achievedOffersPerS: number;
  /** 202 answers during the measured window, per second. */
  achievedIntakePerS: number;
  /** How late the generator itself sent (sent - intended), ms: large values mean the generator was starved. */
  generatorLag: { p99: number | null; max: number | null };
  cpu: CpuUse;
  /** CPU milliseconds per ticket offered in the window, all our processes together (robust to a busy machine). */
  cpuMsPerTicket: number | null;
  peakRssMb: Record<string, number>;
  /** With --store-trace: store commands during the measured window, slowest total first. */
  storeOps?: StoreOpStats[];
  /** Steward only: Kafka requests each service sent during the measured window, most first. */
  kafkaRequests?: KafkaRequestStats[];
  /** Where events' time went in the services (their histograms over the measured window). */
  timings?: TimingStats[];
  /** Store documents and statements per service, command and collection (steward_store_statements_total), over the measured window. */
  storeStatements?: StoreStatementStats[];
  /** The local broker's GC pauses that began within the measured window (its GC log). */
  brokerGc?: GcPauses;
  /** Steward only: each ticket's intake-to-offer time split into hops (read from Kafka when the phase ends). */
  hops?: HopProfile;
  pass: boolean;
}

export interface PhaseResult {
  phase: PhaseName;
  system: "steward" | "floor";
  client: string;
  steps: StepResult[];
  maxPassingRate: number | null;
  lifetimePeakRssMb: Record<string, number>;
  processes: Array<{ name: string; pid: number }>;
  startupS: number;
}

export interface BenchResults {
  generatedAt: string;
  runId: string;
  machine: { cpuModel: string; cores: number; memoryGb: number; node: string; loadAverageAtStart: number[]; infraMode: string };
  options: BenchOptions;
  phases: PhaseResult[];
  profiles: Array<{ service: string } & ProfileSummary>;
  wallClockS: number;
}

const opts = (() => {
  try {
    return parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
})();
const runId = `${Date.now().toString(36)}-${randomBytes(2).toString("hex")}`;
const outDir = opts.outDir ?? join(here, "results");
const workDir = join(root, ".steward", "bench", runId);
const logDir = join(workDir, "logs");
const profileDir = join(workDir, "profiles");
// STEWARD_BENCH_INFRA_DIR lets several benches run side by side (each needs its own Kafka and store).
const infraDir = process.env["STEWARD_BENCH_INFRA_DIR"] ?? join(root, ".steward", "bench-infra");
const log = (m: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const started = Date.now();
const cores = cpus().length;

await mkdir(logDir, { recursive: true });
await mkdir(profileDir, { recursive: true });
await mkdir(outDir, { recursive: true });

const monitor = new ProcessMonitor();
monitor.track("bench-conductor", process.pid);
monitor.startSampling(500);

let infra: ProvisionedInfra | undefined;
let generator: BenchChild | undefined;
const systems = new Set<RunningSystem>();
let storeTrace: BenchChild | undefined;
let storeTracePort = 0;

let stopped: Promise<void> | undefined;
async function shutdown(code: number): Promise<never> {
  // Every caller (a signal, the main flow failing because of it) waits for the one clean-up: nothing
  // this run started may outlive it.
  stopped ??= (async () => {
    await Promise.allSettled([...systems].map((s) => s.stop()));
    await generator?.call("close").catch(() => undefined);
    await generator?.stop().catch(() => undefined);
    await storeTrace?.stop().catch(() => undefined);
    await infra?.stop().catch(() => undefined);
  })();
  await stopped;
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Merges a child's arrivals into the running maps, keeping each ticket's first time. */
function merge(
  into: { offers: Map<string, number>; assignments: Map<string, number>; acceptFailures: number; offerTimes: number[]; acceptAnswers: Array<[number, number]> },
  a: Arrivals,
): void {
  into.acceptAnswers.push(...(a.acceptAnswers ?? []));
  for (const [t, at] of a.offers) {
    if (!into.offers.has(t)) into.offers.set(t, at);
    into.offerTimes.push(at);
  }
  for (const [t, at] of a.assignments) if (!into.assignments.has(t)) into.assignments.set(t, at);
  into.acceptFailures += a.acceptFailures;
}

/** Sends tickets slowly until a few arrive in a row: every consumer group has joined before measuring. */
async function prime(sys: RunningSystem, gen: BenchChild): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (let round_ = 1; ; round_ += 1) {
    const g = await gen.call<GeneratorResult>("run", {
      targets: sys.targets,
      rate: 10,
      warmupS: 0,
      durationS: 1,
      timeoutMs: 10_000,
      tag: `prime-${runId}-${sys.targets.length}-${round_}-${Date.now()}`,
    });
    const ids = g.ticketIds.filter(Boolean);
    const seen = new Set<string>();
    const until = Date.now() + 10_000;
    while (Date.now() < until && ids.some((t) => !seen.has(t))) {
      const a = await sys.observer.call<Arrivals>("collect");
      for (const t of a.offers.keys()) seen.add(t);
      await sleep(200);
    }
    if (ids.length > 0 && ids.every((t) => seen.has(t))) return;
    if (Date.now() > deadline) throw new Error(`the system did not deliver primer tickets within 90 s (${ids.length} accepted, ${[...seen].length} arrived); see ${logDir}`);
  }
}

/** Steward's measured steps' tickets, in step order: their hops are read from Kafka when the phase ends. */
const ticketTimes: TicketTimes[][] = [];

/** The measured windows of the sweep's steps (not warm-ups): --profile summaries count only these. */
const measuredWindows: MonotonicWindow[] = [];

async function runStep(a: ActivePhase, gen: BenchChild, rate: number, tag: string, timing: { warmupS: number; durationS: number; unmeasured?: true } = opts): Promise<StepResult> {
  const sys = a.sys;
  const withAssignments = a.isSteward;
  const mine = (snap: CpuSnapshot): CpuSnapshot => ({ ...snap, cpu: new Map([...snap.cpu].filter(([n]) => sharedProcesses.has(n) || sys.processes.some((p) => p.name === n))) });
  const arrivals = {
    offers: new Map<string, number>(),
    assignments: new Map<string, number>(),
    acceptFailures: 0,
    offerTimes: [] as number[],
    acceptAnswers: [] as Array<[number, number]>,
  };
  await sys.observer.call<Arrivals>("collect"); // drop anything left from before this step
  monitor.resetPeaks();
  let before = monitor.snapshot();
  let after = before;
  const stepStart = Date.now();
  let storeOps: StoreOpStats[] | undefined;
  let kafkaRequests: KafkaRequestStats[] | undefined;
  let timings: TimingStats[] | undefined;
  let storeStatements: StoreStatementStats[] | undefined;
  const traced = withAssignments ? storeTrace : undefined;
  const scraped = sys.metrics ?? [];
  let metricsBefore: MetricsSnapshot = { requests: new Map(), timings: new Map(), statements: new Map() };
  let windowFrom = 0;
  let wallFrom = 0;
  let brokerGc: GcPauses | undefined;
  const marks = [
    sleep(timing.warmupS * 1000).then(async () => {
      windowFrom = monotonicUs();
      wallFrom = Date.now();
      before = monitor.snapshot();
      await traced?.call("reset");
      if (scraped.length > 0) metricsBefore = await snapshotServiceMetrics(scraped);
    }),
    sleep((timing.warmupS + timing.durationS) * 1000).then(async () => {
      if (timing.unmeasured !== true) measuredWindows.push([windowFrom, monotonicUs()]);
      after = monitor.snapshot();
      if (infra?.mode.includes("kafka:local")) brokerGc = await readGcPauses(join(infraDir, "kafka", "node-1", "gc.log"), wallFrom, Date.now());
      storeOps = await traced?.call<StoreOpStats[]>("collect");
      if (scraped.length > 0) {
        const metricsAfter = await snapshotServiceMetrics(scraped);
        kafkaRequests = kafkaRequestsBetween(metricsBefore, metricsAfter);
        timings = timingsBetween(metricsBefore, metricsAfter);
        storeStatements = storeStatementsBetween(metricsBefore, metricsAfter);
      }
    }),
  ];
  // Collect while the step runs so the observer's maps stay small.
  const poll = setInterval(
    () =>
      void sys.observer.call<Arrivals>("collect").then(
        (a) => merge(arrivals, a),
        () => undefined,
      ),
    1000,
  );
  const g = await gen.call<GeneratorResult>("run", { targets: sys.targets, rate, warmupS: timing.warmupS, durationS: timing.durationS, timeoutMs: opts.timeoutMs, tag });
  await Promise.all(marks);
  clearInterval(poll);
  const from = g.measureFrom;
  const to = from + timing.durationS * 1000;
  const measured: number[] = [];
  for (let i = 0; i < g.intended.length; i += 1) if ((g.intended[i] as number) >= from) measured.push(i);
  const expected = measured.map((i) => g.ticketIds[i] as string).filter(Boolean);
  const done = () => expected.every((t) => arrivals.offers.has(t) && (!withAssignments || arrivals.assignments.has(t)));
  const graceUntil = Math.max(nowMs(), to) + opts.graceS * 1000;
  for (;;) {
    merge(arrivals, await sys.observer.call<Arrivals>("collect"));
    if (done() || nowMs() > graceUntil) break;
    await sleep(250);
  }

  const intake: number[] = [];
  const offer: number[] = [];
  const assignment: number[] = [];
  const lag: number[] = [];
  let non202 = 0;
  let timeouts = 0;
  let connection = 0;
  let lost = 0;
  let unassigned = 0;
  let accepted = 0;
  for (const i of measured) {
    const intended = g.intended[i] as number;
    const status = g.status[i] as number;
    const answered = g.answeredAt[i] as number;
    lag.push((g.sentAt[i] as number) - intended);
    intake.push(Number.isNaN(answered) ? Number.POSITIVE_INFINITY : answered - intended);
    if (status === -1) timeouts += 1;
    else if (status === -2 || status === 0) connection += 1;
    else if (status !== 202) non202 += 1;
    const ticketId = g.ticketIds[i] as string;
    const offeredAt = ticketId ? arrivals.offers.get(ticketId) : undefined;
    const assignedAt = ticketId ? arrivals.assignments.get(ticketId) : undefined;
    if (status === 202) {
      accepted += 1;
      if (offeredAt === undefined) lost += 1;
      else if (withAssignments && assignedAt === undefined) unassigned += 1;
    }
    offer.push(offeredAt === undefined ? Number.POSITIVE_INFINITY : offeredAt - intended);
    assignment.push(assignedAt === undefined ? Number.POSITIVE_INFINITY : assignedAt - intended);
  }
  if (withAssignments && timing.unmeasured !== true) {
    const times: TicketTimes[] = [];
    for (const i of measured) {
      const ticketId = g.ticketIds[i] as string;
      const offeredAt = ticketId ? arrivals.offers.get(ticketId) : undefined;
      if (g.status[i] === 202 && offeredAt !== undefined) times.push({ ticketId, intended: g.intended[i] as number, sentAt: g.sentAt[i] as number, offeredAt });
    }
    ticketTimes.push(times);
  }
  const answeredInWindow = measured.filter((i) => g.status[i] === 202 && (g.answeredAt[i] as number) <= to).length;
  const offersInWindow = arrivals.offerTimes.filter((t) => t >= from && t <= to).length;
  const sent = measured.length;
  const failures = non202 + timeouts + connection + lost + unassigned;
  const offerSummary = summarize(offer);
  const errorRate = sent > 0 ? failures / sent : 1;
  const lagSummary = summarize(lag);
  const step: StepResult = {
    rate,
    durationS: timing.durationS,
    sent,
    accepted,
    errors: { non202, timeouts, connection, lost, unassigned, rate: round(errorRate, 5) },
    intakeAnswer: summarize(intake),
    intakeToOffer: offerSummary,
    intakeToAssignment: withAssignments ? summarize(assignment) : null,
    acceptAnswer: withAssignments ? summarize(arrivals.acceptAnswers.filter(([sent]) => sent >= from && sent <= to).map(([, ms]) => ms)) : null,
    achievedOffersPerS: round(offersInWindow / timing.durationS, 1),
    achievedIntakePerS: round(answeredInWindow / timing.durationS, 1),
    generatorLag: { p99: lagSummary.p99, max: lagSummary.max },
    cpu: cpuBetween(mine(before), mine(after), cores),
    cpuMsPerTicket: offersInWindow > 0 ? round((cpuBetween(mine(before), mine(after), cores).totalSeconds * 1000) / offersInWindow, 2) : null,
    peakRssMb: monitor.peaks(),
    ...(storeOps ? { storeOps } : {}),
    ...(kafkaRequests ? { kafkaRequests } : {}),
    ...(timings ? { timings } : {}),
    ...(storeStatements ? { storeStatements } : {}),
    ...(brokerGc ? { brokerGc } : {}),
    pass: offerSummary.p99 !== null && offerSummary.p99 <= opts.thresholdMs && errorRate <= opts.maxErrorRate,
  };
  log(
    `  ${a.phase} ${tag.startsWith("w-") ? "warm-up " : ""}${rate}/s: offer p50 ${offerSummary.p50 ?? "∞"} p99 ${offerSummary.p99 ?? "∞"} max ${offerSummary.max ?? "∞"} ms | intake p99 ${step.intakeAnswer.p99 ?? "∞"} ms | ` +
      `${step.achievedOffersPerS} offers/s | errors ${failures} (lost ${lost}) | cpu ${step.cpu.totalSeconds}s, machine ${step.cpu.machineBusyPercent}% busy | ${step.pass ? "PASS" : "FAIL"} (${Math.round((Date.now() - stepStart) / 1000)} s)`,
  );
  return step;
}

interface ActivePhase {
  phase: PhaseName;
  isSteward: boolean;
  client: string;
  sys: RunningSystem;
  startupS: number;
  steps: StepResult[];
  done: boolean;
}

/** Processes every phase shares: their CPU counts in every phase's steps. */
const sharedProcesses = new Set(["kafka (java)", "ferretdb", "load-generator", "bench-conductor", "store-trace proxy"]);

async function startPhase(phase: PhaseName, gen: BenchChild, ready: ProvisionedInfra, first: boolean): Promise<ActivePhase> {
  const t0 = Date.now();
  const isSteward = phase === "steward";
  const client = isSteward ? opts.stewardClient : phase === "floor-platformatic" ? "platformatic" : "kafkajs";
  log(`phase ${phase}: starting`);
  const execArgv: Record<string, string[]> = {};
  for (const svc of opts.profile) execArgv[svc] = ["--cpu-prof", `--cpu-prof-dir=${join(profileDir, svc)}`];
  const storeUri = storeTrace ? ready.mongoUri.replace(/^mongodb:\/\/[^/]+/, `mongodb://127.0.0.1:${storeTracePort}`) : ready.mongoUri;
  const sys = isSteward
    ? await startSteward(
        {
          infra: { brokers: ready.brokers, mongoUri: storeUri },
          runId,
          logDir,
          client,
          instances: opts.instances,
          agents: { agents: opts.agents, capacityPerChannel: opts.capacity, resolveAfterMs: opts.resolveAfterMs, languages: await agentLanguages() },
          execArgv,
        },
        log,
      )
    : await startFloor({ infra: ready, runId, logDir, client, instances: { http: opts.instances.intake, stage1: opts.instances.triage, stage2: opts.instances.routing } }, log);
  systems.add(sys);
  for (const p of sys.processes) monitor.track(p.name, p.pid);
  await prime(sys, gen);
  const startupS = Math.round((Date.now() - t0) / 1000);
  const active: ActivePhase = { phase, isSteward, client, sys, startupS, steps: [], done: false };
  // Unmeasured load first, so JIT compilation (the broker's JVM, every Node process) is not billed to
  // the first measured rate. The broker is new each run: its C2 compiler alone takes ~10 CPU-s in
  // the first minute, so the first phase warms it longer.
  if (first && opts.infraWarmupS > 0 && !isSteward) {
    log(`phase ${phase}: ${opts.infraWarmupS} s unmeasured warm-up of the new broker at 100/s`);
    await runStep(active, gen, 100, `w-${runId}-infra`, { warmupS: 0, durationS: opts.infraWarmupS, unmeasured: true });
  }
  if (opts.phaseWarmupS > 0) {
    // The floor warms at 100/s (enough to get the broker's JIT going); Steward at its first rate, which
    // it may not sustain much above.
    const warmRate = isSteward ? (opts.rates[0] ?? 10) : Math.max(100, opts.rates[0] ?? 100);
    log(`phase ${phase}: primed after ${startupS} s; ${opts.phaseWarmupS} s unmeasured warm-up at ${warmRate}/s`);
    await runStep(active, gen, warmRate, `w-${runId}-${phase}`, { warmupS: 0, durationS: opts.phaseWarmupS, unmeasured: true });
  }
  return active;
}

/** Splits each measured step's tickets into hops from the timestamps of their records (before the topics go). */
async function addHopProfiles(a: ActivePhase): Promise<void> {
  const kafka = a.sys.kafka;
  if (!a.isSteward || !kafka || a.steps.length !== ticketTimes.length) return;
  try {
    const t0 = Date.now();
    const wanted = new Set(ticketTimes.flatMap((ts) => ts.map((t) => t.ticketId)));
    const stages = await readStageTimes(kafka.brokers, kafka.topicPrefix, wanted);
    const toMono = epochToMonotonic();
    a.steps.forEach((step, i) => {
      step.hops = hopProfile(ticketTimes[i] ?? [], stages, toMono);
    });
    log(`hop profile: ${stages.size} tickets' records read in ${Math.round((Date.now() - t0) / 1000)} s`);
  } catch (err) {
    log(`hop profile not made: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function finishPhase(a: ActivePhase): Promise<PhaseResult> {
  await addHopProfiles(a);
  const lifetimePeakRssMb = Object.fromEntries(Object.entries(monitor.lifetimePeaks()).filter(([n]) => sharedProcesses.has(n) || a.sys.processes.some((p) => p.name === n)));
  await a.sys.stop();
  systems.delete(a.sys);
  for (const p of a.sys.processes) monitor.untrack(p.name);
  const passing = a.steps.filter((s) => s.pass).map((s) => s.rate);
  return {
    phase: a.phase,
    system: a.isSteward ? "steward" : "floor",
    client: a.client,
    steps: a.steps,
    maxPassingRate: passing.length > 0 ? Math.max(...passing) : null,
    lifetimePeakRssMb,
    processes: a.sys.processes,
    startupS: a.startupS,
  };
}

/**
 * Sweeps the given phases together, rate by rate (A at r1, B at r1, A at r2, ...), so that a change in
 * what else loads the shared machine hits both alike; each stops at its own first failing rate.
 */
async function sweep(phases: ActivePhase[], gen: BenchChild): Promise<void> {
  log(`sweeping ${phases.map((p) => p.phase).join(" and ")} over ${opts.rates.join(", ")} tickets/s`);
  for (const rate of opts.rates) {
    for (const a of phases) {
      if (a.done) continue;
      const step = await runStep(a, gen, rate, `b-${runId}-${a.phase}-${rate}`);
      a.steps.push(step);
      const failingRun = a.steps.slice(-opts.stopAfter);
      if (!opts.keepGoing && failingRun.length === opts.stopAfter && failingRun.every((s) => !s.pass)) a.done = true;
      await sleep(1000);
    }
    if (phases.every((a) => a.done)) break;
  }
}

async function profiles(): Promise<Array<{ service: string } & ProfileSummary>> {
  const out: Array<{ service: string } & ProfileSummary> = [];
  for (const svc of opts.profile) {
    const dir = join(profileDir, svc);
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".cpuprofile"));
    // Under load, not start-up: only the samples of the measured windows (every rate's 20 s, say).
    for (const f of files) out.push({ service: svc, ...summarizeProfile(join(dir, f), 20, measuredWindows) });
  }
  return out;
}

try {
  log(`run ${runId}: phases ${opts.phases.join(", ")}; rates ${opts.rates.join(", ")}; ${opts.warmupS}+${opts.durationS} s per rate; logs in ${logDir}`);
  // A fresh broker and store every run (when the bench starts its own): no topics, partitions or
  // data left by earlier runs weigh on this one. Stale processes of this directory are stopped first.
  if (!process.env["KAFKA_BROKERS"]) {
    await stopKafka(join(infraDir, "kafka"));
    await rm(join(infraDir, "kafka"), { recursive: true, force: true });
  }
  if (!process.env["MONGODB_URI"]) {
    await stopFerretDb(join(infraDir, "ferretdb"));
    await rm(join(infraDir, "ferretdb"), { recursive: true, force: true });
  }
  infra = await provisionInfra({ purpose: "dev", stateDir: infraDir, kafkaPort: 0, mongoPort: 0, log: (m) => log(`infra: ${m}`) });
  const javaPid = await readPid(join(infraDir, "kafka", "node-1", "kafka.pid"));
  const ferretPid = await readPid(join(infraDir, "ferretdb", "ferretdb.pid"));
  if (infra.mode.includes("kafka:local") && javaPid) monitor.track("kafka (java)", javaPid);
  if (infra.mode.includes("store:local") && ferretPid) monitor.track("ferretdb", ferretPid);
  if (opts.storeTrace && opts.phases.includes("steward")) {
    storeTracePort = await freePort();
    const upstream = /^mongodb:\/\/(?:[^@/]*@)?([^/,?]+)/.exec(infra.mongoUri)?.[1] ?? "127.0.0.1:27017";
    storeTrace = await forkBenchChild("store-trace", join(here, "store-trace.ts"), {
      env: { BENCH_UPSTREAM: upstream, BENCH_PORT: String(storeTracePort) },
      logFile: join(logDir, "store-trace.log"),
    });
    monitor.track("store-trace proxy", storeTrace.pid);
    log(`store trace: services reach the store through 127.0.0.1:${storeTracePort} -> ${upstream}`);
  }
  generator = await forkBenchChild("load-generator", join(here, "load-generator.ts"), {
    env: { BENCH_CONNECTIONS: String(opts.connections) },
    logFile: join(logDir, "load-generator.log"),
  });
  monitor.track("load-generator", generator.pid);

  const phases: PhaseResult[] = [];
  const floors = opts.phases.filter((p) => p !== "steward");
  if (floors.length > 0) {
    const active: ActivePhase[] = [];
    for (const phase of floors) active.push(await startPhase(phase, generator, infra, active.length === 0));
    await sweep(active, generator);
    for (const a of active) phases.push(await finishPhase(a));
  }
  if (opts.phases.includes("steward")) {
    const a = await startPhase("steward", generator, infra, false);
    await sweep([a], generator);
    phases.push(await finishPhase(a));
  }
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    runId,
    machine: {
      cpuModel: cpus()[0]?.model ?? "unknown",
      cores,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart: loadavg().map((v) => round(v, 2)),
      infraMode: infra.mode,
    },
    options: opts,
    phases,
    profiles: await profiles(),
    wallClockS: Math.round((Date.now() - started) / 1000),
  };
  await writeResults(results, outDir);
  log(`results: ${join(outDir, "latest.md")}, latest.json, latency-vs-load.png (${results.wallClockS} s)`);
  await shutdown(0);
} catch (err) {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await shutdown(1);
}
