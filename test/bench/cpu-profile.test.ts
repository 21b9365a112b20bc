// The bench's CPU profile summary: samples outside the measured windows do not count, and the windows
// the bench marks with process.hrtime line up with the stamps V8 puts on a real profile's samples.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { summarizeCpuProfile, summarizeProfile, type CpuProfile, type MonotonicWindow } from "./cpu-profile.ts";

const frame = (functionName: string, url = "file:///work/services/routing/src/x.ts") => ({ functionName, url, lineNumber: 0 });

describe("summarizeCpuProfile", () => {
  // Start-up (load) for 3 ms, then work for 2 ms, then idle for 1 ms; each sample 1 ms after the last.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame("(root)", ""), children: [2, 3, 4] },
      { id: 2, callFrame: frame("load") },
      { id: 3, callFrame: frame("work") },
      { id: 4, callFrame: frame("(idle)", "") },
    ],
    samples: [2, 2, 2, 3, 3, 4],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
    startTime: 10_000,
    endTime: 16_000,
  };

  it("counts every sample without windows", () => {
    const s = summarizeCpuProfile("p", profile);
    expect(s.scope).toBe("whole run");
    expect(s.busyMs).toBe(5);
    expect(s.topFunctions.map((f) => [f.fn, f.selfMs])).toEqual([
      ["load", 3],
      ["work", 2],
    ]);
  });

  it("counts only the samples stamped inside a window", () => {
    const windows: MonotonicWindow[] = [[13_500, 16_000]];
    const s = summarizeCpuProfile("p", profile, 20, windows);
    expect(s.scope).toBe("measured windows");
    expect(s.totalMs).toBe(3);
    expect(s.busyMs).toBe(2);
    expect(s.topFunctions.map((f) => [f.fn, f.selfMs])).toEqual([["work", 2]]);
  });
});

describe("measured windows on a real profile", () => {
  it("marks taken with process.hrtime select the samples V8 took meanwhile", () => {
    const dir = mkdtempSync(join(tmpdir(), "steward-prof-"));
    try {
      // Idle-ish start, then a marked busy loop in a named function, then more of something else.
      const script = `
        const us = () => Number(process.hrtime.bigint() / 1000n);
        function other(ms) { const t = Date.now(); let x = 0; while (Date.now() - t < ms) x += Math.sqrt(x + 1); return x; }
        function marked(ms) { const t = Date.now(); let x = 0; while (Date.now() - t < ms) x += Math.sqrt(x + 2); return x; }
        other(150);
        const from = us(); marked(200); const to = us();
        other(150);
        console.log(JSON.stringify([from, to]));`;
      const out = execFileSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, "-e", script], { encoding: "utf8" });
      const window = JSON.parse(out) as [number, number];
      const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
      expect(file).toBeDefined();
      const s = summarizeProfile(join(dir, file as string), 5, [window]);
      const top = s.topFunctions[0];
      expect(top?.fn).toBe("marked");
      expect(top?.percentOfBusy).toBeGreaterThan(80);
      expect(s.topFunctions.find((f) => f.fn === "other")?.percentOfBusy ?? 0).toBeLessThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
