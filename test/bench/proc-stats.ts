// CPU time and memory of every process the bench runs (services, floor stages, load generator, agents,
// the Kafka JVM and FerretDB), read from /proc, plus how busy the whole machine was meanwhile.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

export interface TrackedProcess {
  name: string;
  pid: number;
}

export interface CpuSnapshot {
  at: number;
  /** name -> CPU seconds (user + system) so far */
  cpu: Map<string, number>;
  /** whole machine: busy and total jiffies since boot */
  machineBusy: number;
  machineTotal: number;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces), starting at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak resident set), MiB. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal; guest is inside user
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

export class ProcessMonitor {
  private readonly tracked = new Map<string, number>();
  private readonly peakRss = new Map<string, number>();
  private readonly lastHwm = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  track(name: string, pid: number): void {
    this.tracked.set(name, pid);
  }

  untrack(name: string): void {
    this.sampleMemory();
    this.tracked.delete(name);
  }

  processes(): TrackedProcess[] {
    return [...this.tracked].map(([name, pid]) => ({ name, pid }));
  }

  snapshot(): CpuSnapshot {
    const cpu = new Map<string, number>();
    for (const [name, pid] of this.tracked) {
      const s = cpuSeconds(pid);
      if (s !== undefined) cpu.set(name, s);
    }
    const m = machineJiffies();
    return { at: Date.now(), cpu, machineBusy: m.busy, machineTotal: m.total };
  }

  /** Samples resident memory every intervalMs; peaks are kept per process until resetPeaks(). */
  startSampling(intervalMs = 500): void {
    this.timer = setInterval(() => this.sampleMemory(), intervalMs);
    this.timer.unref();
  }

  stopSampling(): void {
    if (this.timer) clearInterval(this.timer);
  }

  sampleMemory(): void {
    for (const [name, pid] of this.tracked) {
      const m = memoryOf(pid);
      if (!m) continue;
      this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, m.rssMb));
      this.lastHwm.set(name, m.hwmMb);
    }
  }

  resetPeaks(): void {
    this.peakRss.clear();
  }

  /** Highest resident memory sampled since resetPeaks(), MiB. */
  peaks(): Record<string, number> {
    return Object.fromEntries([...this.peakRss].map(([k, v]) => [k, Math.round(v)]));
  }

  /** The kernel's peak resident memory (VmHWM) for each process, over its whole life, MiB. */
  lifetimePeaks(): Record<string, number> {
    this.sampleMemory();
    return Object.fromEntries([...this.lastHwm].filter(([k]) => this.tracked.has(k)).map(([k, v]) => [k, Math.round(v)]));
  }
}

export interface CpuUse {
  /** name -> CPU seconds used between the two snapshots */
  seconds: Record<string, number>;
  /** name -> share of one core, percent */
  percentOfCore: Record<string, number>;
  totalSeconds: number;
  /** The whole machine's busy share of all its cores (ours and everyone else's), percent. */
  machineBusyPercent: number;
  /** Our processes' share of all the machine's cores, percent. */
  oursPercentOfMachine: number;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, cores: number): CpuUse {
  const wall = Math.max(0.001, (b.at - a.at) / 1000);
  const seconds: Record<string, number> = {};
  const percentOfCore: Record<string, number> = {};
  let total = 0;
  for (const [name, after] of b.cpu) {
    const used = Math.max(0, after - (a.cpu.get(name) ?? after));
    seconds[name] = Math.round(used * 100) / 100;
    percentOfCore[name] = Math.round((used / wall) * 1000) / 10;
    total += used;
  }
  const machineBusyPercent = b.machineTotal > a.machineTotal ? Math.round(((b.machineBusy - a.machineBusy) / (b.machineTotal - a.machineTotal)) * 1000) / 10 : 0;
  return { seconds, percentOfCore, totalSeconds: Math.round(total * 100) / 100, machineBusyPercent, oursPercentOfMachine: Math.round((total / (wall * cores)) * 1000) / 10 };
}
