// ./steward start's command line. Kept apart from start.ts so it can be tested without starting anything.

export interface StartOptions {
  /** Seconds until start stops by itself; 0 runs until interrupted or ./steward stop. */
  duration: number;
  /** Simulated tickets per second; 0 sends none. */
  rate: number;
  sampleAgents: boolean;
  keepData: boolean;
}

export const startUsage = "usage: ./steward start [--duration <s>] [--rate <tickets/s, 0 = none>] [--no-sample-agents] [--keep-data]";

export function parseStartOptions(args: readonly string[]): StartOptions {
  const options: StartOptions = { duration: 0, rate: 0.5, sampleAgents: true, keepData: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const number = (name: string): number => {
      const text = args[++i];
      const value = Number(text);
      if (text === undefined || text.trim() === "" || !Number.isFinite(value) || value < 0) throw new Error(`${name} needs a number >= 0, got ${text ?? "nothing"}\n${startUsage}`);
      return value;
    };
    if (arg === "--duration") options.duration = number(arg);
    else if (arg === "--rate") options.rate = number(arg);
    else if (arg === "--no-sample-agents") options.sampleAgents = false;
    else if (arg === "--keep-data") options.keepData = true;
    else throw new Error(`unknown option ${arg}\n${startUsage}`);
  }
  return options;
}
