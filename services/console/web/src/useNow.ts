// A clock for countdowns, ticking once a second.
import { useEffect, useState } from "react";

export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** Calls `load` now and every `everyMs`, and again whenever `deps` change. */
export function usePoll(load: () => Promise<void>, everyMs: number, deps: readonly unknown[]): void {
  useEffect(() => {
    let live = true;
    const tick = () => {
      if (live) void load().catch(() => undefined);
    };
    tick();
    const t = setInterval(tick, everyMs);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, deps);
}
