// One clock for every bench process: CLOCK_MONOTONIC is system-wide on Linux, so a send time taken in
// the load generator and an arrival time taken in the agent simulator can be subtracted directly.
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
