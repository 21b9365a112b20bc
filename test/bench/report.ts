// The Markdown report of a bench run: per-rate latency and errors for Steward and the floor, ratios,
// the client comparison, CPU and memory per process, and the profile summary.
import { basename } from "node:path";
import type { BenchResults, PhaseResult, StepResult } from "./run.ts";
import { fmtMs, round } from "./stats.ts";
import type { TimingStats } from "./service-metrics.ts";

const row = (cells: Array<string | number>) => `| ${cells.join(" | ")} |`;

function stepRow(s: StepResult): string {
  const e = s.errors;
  const errs =
    [
      e.non202 && `${e.non202} non-202`,
      e.timeouts && `${e.timeouts} timeouts`,
      e.connection && `${e.connection} conn`,
      e.lost && `${e.lost} lost`,
      e.unassigned && `${e.unassigned} unassigned`,
    ]
      .filter(Boolean)
      .join(", ") || "0";
  const o = s.intakeToOffer;
  const a = s.intakeToAssignment;
  const acc = s.acceptAnswer;
  return row([
    s.rate,
    s.achievedOffersPerS,
    fmtMs(s.intakeAnswer.p50),
    fmtMs(s.intakeAnswer.p99),
    `${fmtMs(o.p50)} / ${fmtMs(o.p90)} / ${fmtMs(o.p99)} / ${fmtMs(o.max)}`,
    a ? `${fmtMs(a.p50)} / ${fmtMs(a.p99)} / ${fmtMs(a.max)}` : "–",
    acc ? `${fmtMs(acc.p50)} / ${fmtMs(acc.p99)}` : "–",
    errs,
    `${s.cpu.totalSeconds} s (${s.cpu.oursPercentOfMachine}%)`,
    s.cpuMsPerTicket ?? "–",
    `${s.cpu.machineBusyPercent}%`,
    s.pass ? "pass" : "**fail**",
  ]);
}

function phaseTitle(p: PhaseResult): string {
  return p.system === "steward" ? `Steward (services on ${p.client})` : `Floor over ${p.client}`;
}

function phaseTable(p: PhaseResult): string {
  return [
    `### ${phaseTitle(p)}: highest passing rate ${p.maxPassingRate ?? "none"} tickets/s`,
    "",
    row([
      "offered /s",
      "offers /s",
      "intake p50",
      "intake p99",
      "to offer p50 / p90 / p99 / max",
      "to assignment p50 / p99 / max",
      "accept answered p50 / p99",
      "errors",
      "our CPU (share of machine)",
      "CPU ms per ticket",
      "machine busy (everyone)",
      "p99 ≤ target",
    ]),
    row(Array(12).fill("---")),
    ...p.steps.map(stepRow),
    "",
  ].join("\n");
}

function cpuTable(p: PhaseResult): string {
  const step = [...p.steps].reverse().find((s) => s.pass) ?? p.steps[p.steps.length - 1];
  if (!step) return "";
  const names = Object.keys(step.cpu.seconds).sort((a, b) => (step.cpu.seconds[b] ?? 0) - (step.cpu.seconds[a] ?? 0));
  const total = step.cpu.totalSeconds || 1;
  return [
    `CPU and memory per process, ${phaseTitle(p)} at ${step.rate} tickets/s (${step.durationS} s measured):`,
    "",
    row(["process", "CPU s", "% of one core", "share of our CPU", "peak RSS in step (MiB)", "peak RSS over phase, VmHWM (MiB)"]),
    row(Array(6).fill("---")),
    ...names.map((n) =>
      row([
        n,
        step.cpu.seconds[n] ?? 0,
        `${step.cpu.percentOfCore[n] ?? 0}%`,
        `${round(((step.cpu.seconds[n] ?? 0) / total) * 100, 1)}%`,
        step.peakRssMb[n] ?? "–",
        p.lifetimePeakRssMb[n] ?? "–",
      ]),
    ),
    "",
  ].join("\n");
}

function storeOpsTable(p: PhaseResult): string {
  const step = [...p.steps].reverse().find((s) => s.storeOps && s.storeOps.length > 0);
  if (!step?.storeOps) return "";
  return [
    `Store commands during the measured ${step.durationS} s at ${step.rate} tickets/s (--store-trace: through a timing proxy), by total time:`,
    "",
    row(["service", "command", "collection", "count", "per ticket", "total ms", "mean ms", "max ms"]),
    row(Array(8).fill("---")),
    ...step.storeOps
      .slice(0, 20)
      .map((o) =>
        row([o.app, o.command, o.collection || "–", o.count, step.sent > 0 ? round(o.count / step.sent, 2) : "–", o.totalMs, round(o.totalMs / Math.max(1, o.count), 2), o.maxMs]),
      ),
    "",
  ].join("\n");
}

/**
 * A count per ticket sent at each rate, one row per key (the `limit` largest over all rates), and their sum:
 * what the broker or the store is asked for per ticket.
 */
function perTicketTable<T extends { count: number }>(
  p: PhaseResult,
  itemsOf: (s: StepResult) => readonly T[] | undefined,
  keyOf: (item: T) => string,
  opts: { title: string; header: string; limit: number },
): string {
  const steps = p.steps.filter((s) => (itemsOf(s)?.length ?? 0) > 0 && s.sent > 0);
  if (steps.length === 0) return "";
  const keys = new Map<string, number>();
  for (const s of steps) for (const k of itemsOf(s) ?? []) keys.set(keyOf(k), (keys.get(keyOf(k)) ?? 0) + k.count / s.sent);
  const perTicket = (s: StepResult, key: string) => round((itemsOf(s) ?? []).filter((k) => keyOf(k) === key).reduce((a, k) => a + k.count, 0) / s.sent, 2);
  const total = (s: StepResult) => round((itemsOf(s) ?? []).reduce((a, k) => a + k.count, 0) / s.sent, 1);
  const top = [...keys]
    .sort((a, b) => b[1] - a[1])
    .slice(0, opts.limit)
    .map(([k]) => k);
  return [
    opts.title,
    "",
    row([opts.header, ...steps.map((s) => `${s.rate}/s`)]),
    row(Array(steps.length + 1).fill("---")),
    ...top.map((k) => row([k, ...steps.map((s) => perTicket(s, k))])),
    row(["**all**", ...steps.map((s) => total(s))]),
    "",
  ].join("\n");
}

/** Kafka requests per ticket at each rate, by service and API (what the broker and the clients pay per ticket). */
function kafkaRequestsTable(p: PhaseResult): string {
  return perTicketTable(
    p,
    (s) => s.kafkaRequests,
    (k) => `${k.service} ${k.api}`,
    {
      title: "Kafka requests per ticket sent, by service and API (steward_kafka_requests_total over the measured window):",
      header: "service / API",
      limit: 15,
    },
  );
}

/**
 * Store documents and statements per ticket at each rate, by service, command and collection: what the
 * store's work grows with (an insertMany of 50 is one command and 50 documents).
 */
function storeStatementsTable(p: PhaseResult): string {
  return perTicketTable(
    p,
    (s) => s.storeStatements,
    (k) => `${k.service} ${k.command} ${k.collection}`,
    {
      title:
        "Store documents and statements per ticket sent, by service, command and collection (steward_store_statements_total over the measured window; 1 per command for reads):",
      header: "service command collection",
      limit: 18,
    },
  );
}

/**
 * Where events' time goes inside Steward at each rate: a record's age when its handler got it (producer to
 * handler: the hop), a publish's wait for acks=all, and store commands; each as mean ms, the bucket its
 * p99 falls in, and how many per ticket sent.
 */
function timingsTable(p: PhaseResult): string {
  const steps = p.steps.filter((s) => s.timings && s.timings.length > 0 && s.sent > 0);
  if (steps.length === 0) return "";
  const keyOf = (t: TimingStats) => `${t.service} · ${t.stage} · ${t.what}`;
  const weight = new Map<string, number>();
  for (const s of steps) for (const t of s.timings ?? []) if (t.stage !== "gc") weight.set(keyOf(t), (weight.get(keyOf(t)) ?? 0) + (t.meanMs * t.count) / s.sent);
  const cell = (s: StepResult, key: string) => {
    const t = (s.timings ?? []).find((x) => keyOf(x) === key);
    if (!t) return "–";
    const p99 = Number.isFinite(t.p99AtMostMs) ? `≤${round(t.p99AtMostMs, 1)}` : ">10 s";
    return `${round(t.meanMs, 1)} / ${p99} (${round(t.count / s.sent, 2)})`;
  };
  const top = [...weight]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 18)
    .map(([k]) => k);
  return [
    "Where events' time goes in the services (their own histograms over the measured window): mean ms / p99 bucket ms (count per ticket sent), by time per ticket. `record age` is producer to handler (the hop), `publish` the wait for acks=all:",
    "",
    row(["service · stage · topic or command", ...steps.map((s) => `${s.rate}/s`)]),
    row(Array(steps.length + 1).fill("---")),
    ...top.map((k) => row([k, ...steps.map((s) => cell(s, k))])),
    "",
  ].join("\n");
}

/**
 * Stop-the-world pauses within each measured window: the broker's (its GC log) and each service's garbage
 * collections (prom-client's `nodejs_gc_duration_seconds`, by kind). A pause holds every request the process
 * has in hand, so a ticket's tail that no hop's own work explains may sit here.
 */
function pausesTable(p: PhaseResult): string {
  const steps = p.steps.filter((s) => s.sent > 0 && (s.brokerGc !== undefined || (s.timings ?? []).some((t) => t.stage === "gc")));
  if (steps.length === 0) return "";
  const bound = (ms: number | undefined) => (ms === undefined ? "?" : Number.isFinite(ms) ? `≤${round(ms, 1)} ms` : "> 1 s");
  const brokerCell = (s: StepResult) => {
    const g = s.brokerGc;
    return g === undefined ? "–" : `${g.count} (${g.over20Ms} ≥ 20 ms), ${round(g.totalMs, 1)} ms in all, longest ${round(g.maxMs, 1)} ms`;
  };
  const keys = [...new Set(steps.flatMap((s) => (s.timings ?? []).filter((t) => t.stage === "gc").map((t) => `${t.service} · ${t.what}`)))].sort();
  const gcCell = (s: StepResult, key: string) => {
    const t = (s.timings ?? []).find((x) => x.stage === "gc" && `${x.service} · ${x.what}` === key);
    return t === undefined ? "–" : `${t.count}, ${round(t.meanMs * t.count, 1)} ms in all, longest ${bound(t.maxAtMostMs)}`;
  };
  return [
    "Pauses within the measured window: count, their sum, and the longest (the broker's from its GC log; the services' from their GC histograms, so the longest is a bucket's bound):",
    "",
    row(["process · kind", ...steps.map((s) => `${s.rate}/s`)]),
    row(Array(steps.length + 1).fill("---")),
    row(["Kafka broker · GC", ...steps.map(brokerCell)]),
    ...keys.map((k) => row([k, ...steps.map((s) => gcCell(s, k))])),
    "",
  ].join("\n");
}

/**
 * Each measured ticket's intake-to-offer time split into hops by the timestamps Kafka holds for its records
 * (hop-profile.ts): every hop's p50 / p99, and where the slowest 1 % of tickets spent theirs.
 */
function hopsTable(p: PhaseResult): string {
  const steps = p.steps.filter((s) => s.hops !== undefined && s.hops.tickets > 0);
  if (steps.length === 0) return "";
  const hopCell = (s: StepResult, hop: string) => {
    const h = s.hops?.hops.find((x) => x.hop === hop)?.summary;
    return h ? `${fmtMs(h.p50)} / ${fmtMs(h.p99)}` : "–";
  };
  const slowCell = (s: StepResult, hop: string) => {
    const h = s.hops?.slowest.hops.find((x) => x.hop === hop);
    return h ? `${fmtMs(h.meanMs)} (${Math.round(h.share * 100)} %)` : "–";
  };
  const hops = steps[0]?.hops?.hops ?? [];
  return [
    "Where a ticket's intake-to-offer time goes, hop by hop (Kafka's timestamps of its records; each hop good to about 1 ms). p50 / p99 of each hop over the step's tickets:",
    "",
    row(["hop", ...steps.map((s) => `${s.rate}/s (${s.hops?.tickets ?? 0} tickets${s.hops?.incomplete ? `, ${s.hops.incomplete} without every record` : ""})`)]),
    row(Array(steps.length + 1).fill("---")),
    ...hops.map((h) => row([h.what, ...steps.map((s) => hopCell(s, h.hop))])),
    "",
    "The slowest 1 % of tickets (by intake-to-offer): mean ms per hop and its share of their total:",
    "",
    row(["hop", ...steps.map((s) => `${s.rate}/s (${s.hops?.slowest.tickets ?? 0} tickets, mean ${fmtMs(s.hops?.slowest.totalMeanMs ?? null)})`)]),
    row(Array(steps.length + 1).fill("---")),
    ...hops.map((h) => row([h.what, ...steps.map((s) => slowCell(s, h.hop))])),
    "",
  ].join("\n");
}

function ratios(r: BenchResults): string {
  const steward = r.phases.find((p) => p.phase === "steward");
  const floor = r.phases.find((p) => p.phase === "floor-kafkajs") ?? r.phases.find((p) => p.system === "floor");
  if (!steward || !floor) return "";
  const lines = [
    `## Steward against the floor (${floor.client})`,
    "",
    `Highest rate with p99 intake-to-offer ≤ ${r.options.thresholdMs} ms: Steward ${steward.maxPassingRate ?? "none"}, floor ${floor.maxPassingRate ?? "none"} tickets/s` +
      (steward.maxPassingRate && floor.maxPassingRate ? ` (ratio ${round(steward.maxPassingRate / floor.maxPassingRate, 2)}).` : "."),
    "",
    row(["offered /s", "Steward p50", "floor p50", "p50 ratio", "Steward p99", "floor p99", "p99 ratio", "throughput ratio"]),
    row(Array(8).fill("---")),
  ];
  for (const s of steward.steps) {
    const f = floor.steps.find((x) => x.rate === s.rate);
    if (!f) continue;
    const ratio = (a: number | null, b: number | null) => (a === null ? "∞" : b === null || b === 0 ? "–" : `${round(a / b, 1)}×`);
    lines.push(
      row([
        s.rate,
        fmtMs(s.intakeToOffer.p50),
        fmtMs(f.intakeToOffer.p50),
        ratio(s.intakeToOffer.p50, f.intakeToOffer.p50),
        fmtMs(s.intakeToOffer.p99),
        fmtMs(f.intakeToOffer.p99),
        ratio(s.intakeToOffer.p99, f.intakeToOffer.p99),
        f.achievedOffersPerS > 0 ? round(s.achievedOffersPerS / f.achievedOffersPerS, 2) : "–",
      ]),
    );
  }
  lines.push("");
  return lines.join("\n");
}

function clientComparison(r: BenchResults): string {
  const a = r.phases.find((p) => p.phase === "floor-kafkajs");
  const b = r.phases.find((p) => p.phase === "floor-platformatic");
  if (!a || !b) return "";
  // CPU per ticket is the comparison a busy, shared machine distorts least.
  const perTicket = (s: StepResult | undefined, pick: (name: string) => boolean) => {
    if (!s || s.achievedOffersPerS <= 0) return "–";
    const cpu = Object.entries(s.cpu.seconds)
      .filter(([n]) => pick(n))
      .reduce((t, [, v]) => t + v, 0);
    return round((cpu * 1000) / (s.achievedOffersPerS * s.durationS), 2);
  };
  const clients = (n: string) => n.startsWith("floor-");
  const broker = (n: string) => n.startsWith("kafka");
  const lat = (s: StepResult | undefined) => (s ? `${fmtMs(s.intakeToOffer.p50)} / ${fmtMs(s.intakeToOffer.p99)}` : "–");
  const lines = [
    "## Kafka clients through the EventBus (floor pipeline)",
    "",
    `Highest passing rate: kafkajs ${a.maxPassingRate ?? "none"}, platformatic ${b.maxPassingRate ?? "none"} tickets/s. ` +
      "CPU per ticket: the four floor processes (HTTP stage, two relays, observer) together, and the broker.",
    "",
    row([
      "offered /s",
      "kafkajs p50 / p99",
      "platformatic p50 / p99",
      "kafkajs offers/s",
      "platformatic offers/s",
      "kafkajs client CPU ms/ticket",
      "platformatic client CPU ms/ticket",
      "broker CPU ms/ticket (kafkajs / platformatic)",
      "machine busy (kafkajs / platformatic)",
    ]),
    row(Array(9).fill("---")),
  ];
  const rates = [...new Set([...a.steps, ...b.steps].map((s) => s.rate))].sort((x, y) => x - y);
  for (const rate of rates) {
    const s = a.steps.find((x) => x.rate === rate);
    const t = b.steps.find((x) => x.rate === rate);
    lines.push(
      row([
        rate,
        lat(s),
        lat(t),
        s?.achievedOffersPerS ?? "–",
        t?.achievedOffersPerS ?? "–",
        perTicket(s, clients),
        perTicket(t, clients),
        `${perTicket(s, broker)} / ${perTicket(t, broker)}`,
        `${s ? `${s.cpu.machineBusyPercent}%` : "–"} / ${t ? `${t.cpu.machineBusyPercent}%` : "–"}`,
      ]),
    );
  }
  lines.push("");
  return lines.join("\n");
}

function profileSection(r: BenchResults): string {
  if (r.profiles.length === 0) return "";
  const out = ["## CPU profiles", ""];
  for (const p of r.profiles) {
    out.push(
      `### ${p.service} (${p.busyMs} ms on CPU of ${p.totalMs} ms profiled, ${p.scope}; ${basename(p.file)})`,
      "",
      row(["area", "self ms", "% of busy"]),
      row(["---", "---", "---"]),
    );
    for (const a of p.byArea.slice(0, 12)) out.push(row([a.area, a.selfMs, `${a.percentOfBusy}%`]));
    out.push("", row(["function", "where", "self ms", "% of busy"]), row(["---", "---", "---", "---"]));
    for (const f of p.topFunctions.slice(0, 15)) out.push(row([`\`${f.fn}\``, `\`${f.where}\``, f.selfMs, `${f.percentOfBusy}%`]));
    out.push("");
  }
  return out.join("\n");
}

export function markdownReport(r: BenchResults): string {
  const m = r.machine;
  return [
    `# Steward benchmark: ${r.generatedAt.slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GiB, Node ${m.node}; load average at start ${m.loadAverageAtStart.join(" / ")} (shared machine); infra ${m.infraMode}.`,
    `Open loop, ${r.options.warmupS} s warm-up + ${r.options.durationS} s measured per rate; latencies from the intended send time; a lost or failed ticket counts as infinitely slow (∞).`,
    `Pass: p99 intake-to-offer ≤ ${r.options.thresholdMs} ms and at most ${r.options.maxErrorRate * 100}% errors or lost. Instances: ${Object.entries(r.options.instances)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}; ${r.options.agents} agents × capacity ${r.options.capacity} per channel. Run took ${r.wallClockS} s.`,
    "",
    "![latency against load](latency-vs-load.png)",
    "",
    ratios(r),
    clientComparison(r),
    "## Per phase",
    "",
    ...r.phases.map(
      (p) => `${phaseTable(p)}\n${cpuTable(p)}\n${kafkaRequestsTable(p)}\n${storeStatementsTable(p)}\n${hopsTable(p)}\n${timingsTable(p)}\n${pausesTable(p)}\n${storeOpsTable(p)}`,
    ),
    profileSection(r),
  ].join("\n");
}
