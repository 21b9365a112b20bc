// The Kafka broker's garbage-collection pauses within a measured window, read from the GC log the local
// broker writes (infra/src/kafka.ts: -Xlog:gc with wall-clock time). A stop-the-world pause holds every
// produce and fetch on the broker, so a tail the services' own hops cannot explain may be here.
import { readFile } from "node:fs/promises";

export interface GcPauses {
  /** Pauses that began within the window. */
  count: number;
  totalMs: number;
  maxMs: number;
  /** Pauses of 20 ms or more: long enough to show in a p99 of ~10 ms. */
  over20Ms: number;
}

// [2026-12-08T01:02:03.456+0000][12.345s] GC(3) Pause Young (Allocation Failure) 60M->12M(123M) 8.123ms
const PAUSE = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})([+-]\d{4})\].*?\bPause\b.*?\s(\d+(?:\.\d+)?)ms\s*$/;

/** The pauses in `text` (a GC log) that began within [fromMs, toMs] (epoch ms). */
export function gcPausesBetween(text: string, fromMs: number, toMs: number): GcPauses {
  const out: GcPauses = { count: 0, totalMs: 0, maxMs: 0, over20Ms: 0 };
  for (const line of text.split("\n")) {
    const m = PAUSE.exec(line);
    if (!m) continue;
    const [, local = "", offset = "+0000", ms = "0"] = m;
    const at = Date.parse(`${local}${offset.slice(0, 3)}:${offset.slice(3)}`);
    if (!(at >= fromMs && at <= toMs)) continue;
    const pause = Number(ms);
    out.count += 1;
    out.totalMs += pause;
    out.maxMs = Math.max(out.maxMs, pause);
    if (pause >= 20) out.over20Ms += 1;
  }
  return out;
}

/** The pauses in the broker's GC log within the window; undefined when there is no log (a remote broker). */
export async function readGcPauses(file: string, fromMs: number, toMs: number): Promise<GcPauses | undefined> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? undefined : gcPausesBetween(text, fromMs, toMs);
}
