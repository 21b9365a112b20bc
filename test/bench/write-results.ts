// Writes a run's results: latest.json, the Markdown report and the latency chart (PNG).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BenchResults, PhaseResult } from "./run.ts";
import { latencyChartSvg, renderPng } from "./chart.ts";
import { markdownReport } from "./report.ts";

const colors: Record<string, string> = { steward: "#1f77b4", "floor-kafkajs": "#2ca02c", "floor-platformatic": "#9467bd" };

function busyRange(phases: PhaseResult[]): string {
  const busy = phases.flatMap((p) => p.steps.map((s) => s.cpu.machineBusyPercent));
  return busy.length > 0 ? `${Math.round(Math.min(...busy))}-${Math.round(Math.max(...busy))}%` : "?";
}

export async function writeResults(results: BenchResults, outDir: string): Promise<void> {
  const { phases, options } = results;
  await writeFile(join(outDir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(outDir, "latest.md"), markdownReport(results));
  const svg = latencyChartSvg(
    phases.map((p) => ({
      label: p.phase === "steward" ? `Steward (${p.client})` : `floor (${p.client})`,
      color: colors[p.phase] ?? "#333",
      points: p.steps.map((s) => ({ rate: s.rate, p50: s.intakeToOffer.p50, p99: s.intakeToOffer.p99 })),
    })),
    {
      title: "Intake-to-offer latency against offered load",
      subtitle: `${results.generatedAt.slice(0, 16)} · ${results.machine.cores} cores, shared: whole machine ${busyRange(phases)} busy during steps · ${options.durationS} s per rate after ${options.warmupS} s warm-up · open loop`,
      targetMs: options.thresholdMs,
    },
  );
  await writeFile(join(outDir, "latency-vs-load.png"), renderPng(svg));
}
