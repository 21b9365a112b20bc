// What ./steward start leaves on disk so stop, status and logs can find it from another terminal:
// pid files under .steward/run, service logs under .steward/logs, Kafka and the store under .steward/infra.
import { existsSync } from "node:fs";
import { mkdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, isAlive, readPid, waitForExit } from "@steward/infra/local-process";

export const root = fileURLToPath(new URL("../", import.meta.url));
export const runDir = join(root, ".steward", "run");
export const logDir = join(root, ".steward", "logs");
export const infraDir = join(root, ".steward", "infra");
export const kafkaDir = join(infraDir, "kafka");
export const ferretDbDir = join(infraDir, "ferretdb");
/** This checkout's development key set: ./steward start and ./steward token sign with it. */
export const devAuthDir = join(root, ".steward", "dev-auth");
/** The sample integrations ./steward start writes for intake (INTAKE_INTEGRATIONS_FILE), outbound URLs included. */
export const devIntegrationsFile = join(root, ".steward", "dev-integrations.json");

/**
 * The services ./steward start runs, on fixed ports so the printed URLs stay the same between runs, each
 * with its own database so no service's writes queue behind another's in the store (ADR 0013).
 */
export const services = [
  { name: "intake", port: 8080, env: { INTAKE_HTTP_PORT: "8080", MONGODB_DATABASE: "steward_intake" }, url: "http://127.0.0.1:8080/docs" },
  { name: "triage", port: 8082, env: { TRIAGE_HTTP_PORT: "8082", MONGODB_DATABASE: "steward_triage" }, url: "http://127.0.0.1:8082/health/ready" },
  { name: "routing", port: 8081, env: { ROUTING_HTTP_PORT: "8081", MONGODB_DATABASE: "steward_routing" }, url: "http://127.0.0.1:8081/docs" },
  { name: "escalation", port: 8083, env: { ESCALATION_HTTP_PORT: "8083", MONGODB_DATABASE: "steward_escalation" }, url: "http://127.0.0.1:8083/health/ready" },
  { name: "console", port: 8084, env: { CONSOLE_HTTP_PORT: "8084" }, url: "http://127.0.0.1:8084/" },
] as const;
export type ServiceName = (typeof services)[number]["name"];

export const serviceEntry = (name: string) => join(root, "services", name, "src", "main.ts");
export const serviceLog = (name: string) => join(logDir, `${name}.log`);
const pidFile = (name: string) => join(runDir, `${name}.pid`);

/** `start` is the ./steward start process itself; the others are its services. */
export async function recordPid(name: string, pid: number): Promise<void> {
  await mkdir(runDir, { recursive: true });
  await writeFile(pidFile(name), `${pid}\n`);
}

export async function forgetPid(name: string): Promise<void> {
  await rm(pidFile(name), { force: true });
}

/**
 * The live pid recorded for `name`, or undefined. A pid file can outlive its process (kill -9, reboot)
 * and the pid be reused, so only a process still running our script counts.
 */
export async function runningPid(name: string): Promise<number | undefined> {
  const pid = await readPid(pidFile(name));
  if (pid === undefined || !(await isAlive(pid))) return undefined;
  const script = name === "start" ? join(root, "scripts", "start.ts") : serviceEntry(name);
  // ./steward runs `node scripts/start.ts` from the root: resolve argv against the process's own cwd.
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => root);
  return (await commandLine(pid)).some((arg) => resolve(cwd, arg) === script) ? pid : undefined;
}

/** SIGTERM, then SIGKILL after graceMs; true when something was running. */
export async function stopRecorded(name: string, graceMs: number): Promise<boolean> {
  const pid = await runningPid(name);
  if (pid !== undefined) {
    process.kill(pid, "SIGTERM");
    if (!(await waitForExit(pid, graceMs))) {
      process.kill(pid, "SIGKILL");
      await waitForExit(pid, 5_000);
    }
  }
  await forgetPid(name);
  return pid !== undefined;
}

/** Kafka's brokers as recorded by @steward/infra for the dev cluster, if it was ever started. */
export async function recordedBrokers(): Promise<string[] | undefined> {
  try {
    const state = JSON.parse(await readFile(join(kafkaDir, "cluster.json"), "utf8")) as { nodes: Array<{ port: number }> };
    return state.nodes.map((n) => `127.0.0.1:${n.port}`);
  } catch {
    return undefined;
  }
}

export async function recordedMongoUri(): Promise<string | undefined> {
  const file = join(ferretDbDir, "ferretdb.uri");
  return existsSync(file) ? (await readFile(file, "utf8")).trim() || undefined : undefined;
}

/** Log files by name: the services, then Kafka's nodes and the store. */
export async function logFiles(): Promise<Array<{ name: string; file: string }>> {
  const brokers = (await recordedBrokers()) ?? [];
  const nodes = brokers.map((_, i) => ({ name: brokers.length === 1 ? "kafka" : `kafka-${i + 1}`, file: join(kafkaDir, `node-${i + 1}`, "kafka.log") }));
  return [...services.map((s) => ({ name: s.name, file: serviceLog(s.name) })), ...nodes, { name: "ferretdb", file: join(ferretDbDir, "ferretdb.log") }];
}

/** Pids of the dev Kafka nodes and FerretDB that are alive, from @steward/infra's pid files. */
export async function runningInfraPids(): Promise<{ kafka: number[]; ferretdb: number | undefined }> {
  const brokers = (await recordedBrokers()) ?? [];
  const kafka: number[] = [];
  for (let i = 1; i <= brokers.length; i++) {
    const pid = await readPid(join(kafkaDir, `node-${i}`, "kafka.pid"));
    if (pid !== undefined && (await isAlive(pid))) kafka.push(pid);
  }
  const ferret = await readPid(join(ferretDbDir, "ferretdb.pid"));
  return { kafka, ferretdb: ferret !== undefined && (await isAlive(ferret)) ? ferret : undefined };
}
