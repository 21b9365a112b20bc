// Reading the broker's GC log: lines as JDK 17's -Xlog:gc:...:time,uptime writes them (taken from a real
// run), only pauses that began inside the window, and the 20 ms count.
import { describe, expect, it } from "vitest";
import { gcPausesBetween } from "./broker-gc.ts";

const LOG = [
  "[2026-12-08T00:55:56.170+0000][0.010s] Using Serial",
  "[2026-12-08T00:55:57.747+0000][1.586s] GC(0) Pause Young (Allocation Failure) 8M->2M(30M) 24.479ms",
  "[2026-12-08T00:55:58.131+0000][1.971s] GC(1) Pause Young (Allocation Failure) 11M->4M(30M) 73.428ms",
  "[2026-12-08T01:55:58.418+0100][2.258s] GC(2) Pause Young (Allocation Failure) 12M->6M(30M) 18.685ms",
  "[2026-12-08T00:55:59.437+0000][2.277s] GC(3) Pause Full (Allocation Failure) 14M->5M(30M) 110.934ms",
].join("\n");

describe("gcPausesBetween", () => {
  it("counts the pauses that began inside the window, in any time zone the log was written in", () => {
    const from = Date.parse("2026-12-08T00:55:57.000Z");
    const to = Date.parse("2026-12-08T00:55:59.000Z");
    const p = gcPausesBetween(LOG, from, to);
    expect(p.count).toBe(3); // GC(0), GC(1) and GC(2) (written at +0100); GC(3) began after the window
    expect(p.totalMs).toBeCloseTo(24.479 + 73.428 + 18.685, 3);
    expect(p.maxMs).toBeCloseTo(73.428, 3);
    expect(p.over20Ms).toBe(2);
  });

  it("finds nothing outside the window, and skips lines that are not pauses", () => {
    expect(gcPausesBetween(LOG, 0, Date.parse("2026-12-08T00:55:57.000Z"))).toEqual({ count: 0, totalMs: 0, maxMs: 0, over20Ms: 0 });
    expect(gcPausesBetween("garbage\n[x] Pause 5ms", 0, Number.MAX_SAFE_INTEGER).count).toBe(0);
  });
});
