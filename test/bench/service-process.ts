// One Steward service as a child process (`node services/<svc>/src/main.ts`) on free ports, as the bench and
// the fault campaign run them: it remembers its environment and ports, so a process killed with SIGKILL can
// be started again exactly as it was, the way a supervisor (systemd, Kubernetes) restarts a crashed pod.
import { spawn, type ChildProcess } from "node:child_process";
import { open } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "./clock.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

export type ServiceName = "intake" | "triage" | "routing" | "escalation";

/** The port variables each service reads; the first is its HTTP port. */
export const PORT_VARS: Readonly<Record<ServiceName, readonly string[]>> = {
  intake: ["INTAKE_HTTP_PORT", "INTAKE_GRPC_PORT"],
  triage: ["TRIAGE_HTTP_PORT"],
  routing: ["ROUTING_HTTP_PORT", "ROUTING_GRPC_PORT"],
  escalation: ["ESCALATION_HTTP_PORT"],
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitReady(url: string, child: ChildProcess, what: string, logFile: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${logFile}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms; see ${logFile}`);
    await sleep(250);
  }
}

export interface ServiceProcessOptions {
  /** Unique name of this instance, e.g. "routing-2"; also its log file's name. */
  name: string;
  service: ServiceName;
  env: Record<string, string>;
  logDir: string;
  execArgv?: string[];
}

export interface ServiceProcess {
  readonly name: string;
  readonly service: ServiceName;
  /** http://127.0.0.1:<http port>, the same across restarts. */
  readonly url: string;
  readonly logFile: string;
  child: ChildProcess;
  /** Signals the process (default SIGKILL) and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same environment and ports, and waits until /health/ready answers. */
  restart(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts the service and waits until it is ready. */
export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const ports: Record<string, string> = {};
  for (const v of PORT_VARS[opts.service]) ports[v] = String(await freePort());
  const url = `http://127.0.0.1:${ports[PORT_VARS[opts.service][0] as string] as string}`;
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const launch = async (): Promise<ChildProcess> => {
    const out = await open(logFile, "a");
    const child = spawn(process.execPath, [...(opts.execArgv ?? []), join(root, "services", opts.service, "src", "main.ts")], {
      env: { ...process.env, ...opts.env, ...ports },
      stdio: ["ignore", out.fd, out.fd],
      cwd: root,
    });
    await out.close();
    return child;
  };
  const proc: ServiceProcess = {
    name: opts.name,
    service: opts.service,
    url,
    logFile,
    child: await launch(),
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      const done = exited(proc.child);
      proc.child.kill(signal);
      await done;
    },
    async restart() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) await proc.kill("SIGTERM");
      proc.child = await launch();
      await waitReady(`${url}/health/ready`, proc.child, opts.name, logFile);
    },
  };
  await waitReady(`${url}/health/ready`, proc.child, opts.name, logFile);
  return proc;
}
