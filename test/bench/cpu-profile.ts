// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package, so a bench
// report can say where a service spends its CPU. Given measured windows, only samples inside them count:
// a profile runs from process start, and start-up (module loading, schema compilation) would otherwise
// crowd out what the service does under load. V8 stamps samples with the monotonic clock that
// `process.hrtime` reads (both CLOCK_MONOTONIC in µs on Linux), so the bench's marks line up with them.
import { readFileSync } from "node:fs";

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A span of the monotonic clock, in µs (monotonicUs()). */
export type MonotonicWindow = readonly [fromUs: number, toUs: number];

/** Now on the clock V8 stamps profile samples with, in µs. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProfileSummary {
  file: string;
  /** Samples counted: the whole profile, or those inside the measured windows. */
  scope: "whole run" | "measured windows";
  totalMs: number;
  /** Excluding (idle): time the process was actually on the CPU or in GC. */
  busyMs: number;
  topFunctions: Array<{ fn: string; where: string; selfMs: number; percentOfBusy: number }>;
  byArea: Array<{ area: string; selfMs: number; percentOfBusy: number }>;
}

/** Where a frame lives: a package, a Steward workspace, Node itself, or a V8 pseudo-frame. */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const m = /\/(services|libs|proto|test)\/([^/]+)\//.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  return url;
}

export function summarizeProfile(file: string, top = 20, windows?: readonly MonotonicWindow[]): ProfileSummary {
  return summarizeCpuProfile(file, JSON.parse(readFileSync(file, "utf8")) as CpuProfile, top, windows);
}

/** As summarizeProfile, for a profile in hand; with `windows`, only samples stamped inside one count. */
export function summarizeCpuProfile(file: string, profile: CpuProfile, top = 20, windows?: readonly MonotonicWindow[]): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const inWindow = (t: number) => windows === undefined || windows.some(([from, to]) => t >= from && t <= to);
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (!inWindow(at)) continue;
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || "(anonymous)";
    total += us;
    if (fn === "(idle)") {
      idle += us;
      continue;
    }
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|services|libs|proto|test)\//, "$1/")}:${lineNumber + 1}` : "";
    const key = `${fn}\u0000${where}`;
    const entry = fns.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    fns.set(key, entry);
    const area = areaOf(url, fn);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busy = Math.max(1, total - idle);
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  return {
    file,
    scope: windows === undefined ? "whole run" : "measured windows",
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, selfMs: Math.round(f.us / 1000), percentOfBusy: pct(f.us) })),
    byArea: [...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfMs: Math.round(us / 1000), percentOfBusy: pct(us) })),
  };
}
