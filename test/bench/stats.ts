// Latency summaries. A ticket that never arrived counts as an infinitely slow one, so a percentile
// cannot look good by leaving failures out.
export interface LatencySummary {
  count: number;
  /** Milliseconds; null when the percentile falls on a ticket that failed or never arrived. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export function summarize(values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number | null => {
    if (sorted.length === 0) return null;
    const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    const v = sorted[idx] as number;
    return Number.isFinite(v) ? round(v) : null;
  };
  let sum = 0;
  let finite = 0;
  for (const v of sorted) {
    if (Number.isFinite(v)) {
      sum += v;
      finite += 1;
    }
  }
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), mean: finite === sorted.length && finite > 0 ? round(sum / finite) : null };
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function fmtMs(v: number | null): string {
  if (v === null) return "∞";
  if (v >= 1000) return `${round(v / 1000, 2)} s`;
  return `${v < 10 ? round(v, 1) : Math.round(v)} ms`;
}
