// Command-line options of `npm run bench` (see README.md).
import type { KafkaClientName } from "@steward/messaging";

export type PhaseName = "floor-kafkajs" | "floor-platformatic" | "steward";

export interface BenchOptions {
  rates: number[];
  warmupS: number;
  durationS: number;
  /** Unmeasured load at the start of each phase, seconds. */
  phaseWarmupS: number;
  /** Extra unmeasured load before the first phase, seconds: the fresh broker's JIT compiles for about a minute. */
  infraWarmupS: number;
  graceS: number;
  thresholdMs: number;
  /** Highest share of sends that may fail or get lost in a passing step. */
  maxErrorRate: number;
  keepGoing: boolean;
  /** A sweep ends after this many failing rates in a row (one hiccup on a shared machine is not the limit). */
  stopAfter: number;
  phases: PhaseName[];
  stewardClient: KafkaClientName;
  instances: { intake: number; triage: number; routing: number; escalation: number };
  agents: number;
  capacity: number;
  resolveAfterMs: number;
  timeoutMs: number;
  connections: number;
  profile: string[];
  /** Time every store command through a wire-protocol proxy (adds a hop: for diagnosis only). */
  storeTrace: boolean;
  outDir: string | undefined;
  quick: boolean;
}

const USAGE = `npm run bench -- [options]
  --quick                  smoke run of a few minutes (rates 5,100,1000; 2 s warm-up, 5 s per rate)
  --rates 2,5,...          offered rates, tickets/s (default 2,5,10,25,50,100,200,400,700,1000,1400,2000)
  --duration <s>           measured seconds per rate (default 20)
  --warmup <s>             unmeasured seconds before each rate (default 5)
  --phase-warmup <s>       unmeasured load when a phase starts, for JIT warm-up (default 15)
  --infra-warmup <s>       unmeasured load at 100/s before the first phase, for the new broker's JIT (default 45)
  --grace <s>              how long after a step a ticket may still arrive before it counts as lost (default 10)
  --threshold <ms>         p99 intake-to-offer a rate must stay under (default 100)
  --stop-after <n>         end a sweep after n failing rates in a row (default 2; 1 with --quick)
  --keep-going             never end a sweep early
  --phases a,b             any of floor-kafkajs, floor-platformatic, steward (default all three)
  --steward-client <c>     STEWARD_KAFKA_CLIENT given to the services: kafkajs | platformatic (default kafkajs)
  --intake|--triage|--routing|--escalation <n>   instances of each service (default 1)
  --agents <n>             simulated agents (default 50; 10 with --quick)
  --capacity <n>           each agent's capacity per channel (default 20)
  --resolve-after <ms>     agents resolve a ticket this long after accepting it (default 200)
  --timeout <ms>           an intake answer slower than this is a timeout (default 10000)
  --connections <n>        keep-alive connections per intake instance (default 128)
  --profile <svc,...>      run these services with node --cpu-prof and summarise the top functions
  --store-trace            time every store command by service, command and collection (adds a proxy hop)
  --out <dir>              results directory (default test/bench/results)`;

export function parseOptions(argv: string[]): BenchOptions {
  const args = [...argv];
  const value = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value\n${USAGE}`);
    args.splice(i, 2);
    return v;
  };
  const flag = (name: string): boolean => {
    const i = args.indexOf(name);
    if (i >= 0) args.splice(i, 1);
    return i >= 0;
  };
  const num = (name: string, dflt: number, min = 0): number => {
    const raw = value(name);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, not ${raw}`);
    return n;
  };
  if (flag("--help") || flag("-h")) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = flag("--quick");
  const ratesRaw = value("--rates");
  const rates = ratesRaw ? ratesRaw.split(",").map(Number) : quick ? [5, 100, 1000] : [2, 5, 10, 25, 50, 100, 200, 400, 700, 1000, 1400, 2000];
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error(`--rates must be positive numbers, not ${ratesRaw}`);
  const phasesRaw = value("--phases");
  const phases = (phasesRaw ? phasesRaw.split(",") : ["floor-kafkajs", "floor-platformatic", "steward"]) as PhaseName[];
  for (const p of phases) if (!["floor-kafkajs", "floor-platformatic", "steward"].includes(p)) throw new Error(`unknown phase ${p}\n${USAGE}`);
  const client = value("--steward-client") ?? "kafkajs";
  if (client !== "kafkajs" && client !== "platformatic") throw new Error(`--steward-client must be kafkajs or platformatic`);
  const opts: BenchOptions = {
    quick,
    rates,
    warmupS: num("--warmup", quick ? 2 : 5),
    durationS: num("--duration", quick ? 5 : 20, 1),
    phaseWarmupS: num("--phase-warmup", quick ? 3 : 15),
    infraWarmupS: num("--infra-warmup", quick ? 10 : 45),
    graceS: num("--grace", quick ? 5 : 10),
    thresholdMs: num("--threshold", 100, 1),
    maxErrorRate: 0.001,
    keepGoing: flag("--keep-going"),
    stopAfter: num("--stop-after", quick ? 1 : 2, 1),
    phases,
    stewardClient: client,
    instances: { intake: num("--intake", 1, 1), triage: num("--triage", 1, 1), routing: num("--routing", 1, 1), escalation: num("--escalation", 1, 0) },
    agents: num("--agents", quick ? 10 : 50, 1),
    capacity: num("--capacity", 20, 1),
    resolveAfterMs: num("--resolve-after", 200),
    timeoutMs: num("--timeout", 10_000, 100),
    connections: num("--connections", 128, 1),
    profile: (value("--profile") ?? "").split(",").filter(Boolean),
    storeTrace: flag("--store-trace"),
    outDir: value("--out"),
  };
  if (args.length > 0) throw new Error(`unknown argument(s): ${args.join(" ")}\n${USAGE}`);
  return opts;
}
