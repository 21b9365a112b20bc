// Request/answer over the IPC channel between the bench conductor and the processes it forks
// (load generator, agent simulator, floor stages).
import { fork, type ChildProcess } from "node:child_process";
import { open } from "node:fs/promises";

interface Request {
  id: number;
  type: string;
  payload: unknown;
}
interface Answer {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface BenchChild {
  name: string;
  pid: number;
  process: ChildProcess;
  call<T>(type: string, payload?: unknown): Promise<T>;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

/** Forks a bench script; its stdout and stderr go to logFile. Resolves once it says it is ready. */
export async function forkBenchChild(
  name: string,
  script: string,
  opts: { args?: string[]; env?: Record<string, string>; logFile: string; execArgv?: string[]; readyTimeoutMs?: number },
): Promise<BenchChild> {
  const out = await open(opts.logFile, "a");
  const child = fork(script, opts.args ?? [], {
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", out.fd, out.fd, "ipc"],
    execArgv: opts.execArgv ?? [],
    serialization: "advanced",
  });
  await out.close();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${opts.readyTimeoutMs ?? 120_000} ms; see ${opts.logFile}`)), opts.readyTimeoutMs ?? 120_000);
    child.on("message", (m: { type?: string } & Partial<Answer>) => {
      if (m.type === "ready") {
        clearTimeout(timer);
        resolve();
        return;
      }
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p) return;
      pending.delete(m.id as number);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name}: ${m.error ?? "failed"}`));
    });
    child.once("exit", (code, signal) => {
      exited = true;
      clearTimeout(timer);
      const err = new Error(`${name} exited (code ${code ?? "-"}, signal ${signal ?? "-"}); see ${opts.logFile}`);
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  });
  await ready;
  return {
    name,
    pid: child.pid as number,
    process: child,
    call<T>(type: string, payload?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${name} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, type, payload } satisfies Request);
      });
    },
    stop: (graceMs = 10_000) => stopProcess(child, graceMs),
  };
}

export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Child side: answers the conductor's requests with the given handlers and says it is ready. */
export function serveBenchRequests(handlers: Record<string, (payload: never) => unknown>): void {
  process.on("message", (m: Request) => {
    const handler = handlers[m.type];
    if (!handler) {
      process.send?.({ id: m.id, ok: false, error: `unknown request ${m.type}` } satisfies Answer);
      return;
    }
    Promise.resolve()
      .then(() => handler(m.payload as never))
      .then(
        (result) => process.send?.({ id: m.id, ok: true, result } satisfies Answer),
        (err: unknown) => process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Answer),
      );
  });
  // The conductor going away (crash, Ctrl-C) must not leave this process behind.
  process.on("disconnect", () => process.exit(0));
  process.send?.({ type: "ready" });
}
