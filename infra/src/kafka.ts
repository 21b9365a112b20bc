// Runs real Apache Kafka (KRaft, combined broker+controller nodes) from Maven Central jars as
// local processes, for dev, integration and fault tests on machines without Docker.
import { spawn, execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, isAlive, portIsFree, readPid, signalGroup, sleep, tail, waitForExit, freePort } from "./local-process.ts";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";

const execFileAsync = promisify(execFile);

const KAFKA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../kafka");
const POM = join(KAFKA_DIR, "pom.xml");
const LOG4J_CONFIG = join(KAFKA_DIR, "log4j2.properties");
const LIBS_DIR = join(KAFKA_DIR, "target", "libs");
const STAMP = join(LIBS_DIR, ".pom-sha256");
const INSTALL_HINT = "install it with: apt-get install -y openjdk-17-jre-headless maven";

const DEFAULT_STARTUP_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 15_000;

export interface KafkaNodeInfo {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** Pid of the node's JVM; updated in place by startNode, 0 while the node is down. */
  pid: number;
  logFile: string;
  dataDir: string;
}

export interface KafkaCluster {
  /** "127.0.0.1:port" of every broker, in node id order. */
  brokers: string[];
  nodes: KafkaNodeInfo[];
  stateDir: string;
  stop(): Promise<void>;
  /** Signals one node's JVM (default SIGKILL) and waits until it has exited. */
  killNode(nodeId: number, signal?: NodeJS.Signals): Promise<void>;
  /** Restarts a node (same config and data) and waits until it is back in the cluster. */
  startNode(nodeId: number): Promise<void>;
}

export interface StartKafkaOptions {
  stateDir: string;
  nodes?: 1 | 3;
  /** First broker port; node i uses port + 2i (broker) and port + 2i + 1 (controller). 0/undefined: free ports. */
  port?: number;
  /** Max heap per node; default 512 for one node, 384 each for three. */
  heapMb?: number;
  startupTimeoutMs?: number;
  log?: (msg: string) => void;
}

/** What a stateDir remembers between runs, so restarts keep the cluster id and (when free) the ports. */
interface ClusterState {
  clusterId: string;
  nodeCount: 1 | 3;
  nodes: { nodeId: number; port: number; controllerPort: number }[];
}

const noop = (): void => {};

function javaBin(): string {
  const home = process.env["JAVA_HOME"];
  return home ? join(home, "bin", "java") : "java";
}

async function toolOutput(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await execFileAsync(cmd, args, {
      timeout: 60_000,
    });
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & {
      stdout?: string;
      stderr?: string;
    };
    if (e.code === "ENOENT") return undefined;
    return `${e.stdout ?? ""}${e.stderr ?? ""}`;
  }
}

async function checkJava(): Promise<void> {
  const out = await toolOutput(javaBin(), ["-version"]);
  if (out === undefined) throw new Error(`java not found (Kafka 4.1 needs Java 17+); ${INSTALL_HINT}`);
  const major = /version "(\d+)/.exec(out)?.[1];
  if (major !== undefined && Number(major) < 17) {
    throw new Error(`java ${major} found, Kafka 4.1 needs Java 17+; ${INSTALL_HINT}`);
  }
}

async function pomHash(): Promise<string> {
  return createHash("sha256")
    .update(await readFile(POM))
    .digest("hex");
}

async function stampMatches(hash: string): Promise<boolean> {
  try {
    return (await readFile(STAMP, "utf8")).trim() === hash;
  } catch {
    return false;
  }
}

/**
 * Checks Java and resolves the Kafka jars into infra/kafka/target/libs with Maven, once per pom
 * content (a stamp file holds the pom's hash, so later calls do not start Maven at all).
 */
export async function prepareKafka(opts: { log?: (msg: string) => void } = {}): Promise<{ classpath: string }> {
  const log = opts.log ?? noop;
  await checkJava();
  const classpath = join(LIBS_DIR, "*");
  const hash = await pomHash();
  if (await stampMatches(hash)) return { classpath };

  if ((await toolOutput("mvn", ["-v"])) === undefined) {
    throw new Error(`mvn not found (needed once to fetch the Kafka jars from Maven Central); ${INSTALL_HINT}`);
  }
  log(`resolving Kafka jars with Maven into ${LIBS_DIR}`);
  // Resolve into a private dir and swap it in, so an interrupted or concurrent run never leaves half a libs dir.
  const tmp = `${LIBS_DIR}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await execFileAsync("mvn", ["-q", "-B", "-f", POM, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${tmp}`], {
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`mvn failed to resolve the Kafka jars:\n${e.stdout ?? ""}${e.stderr ?? ""}\n${e.message}`);
  }
  await writeFile(join(tmp, ".pom-sha256"), `${hash}\n`);
  if (await stampMatches(hash)) {
    // Another process finished first; its copy is as good as ours.
    await rm(tmp, { recursive: true, force: true });
  } else {
    await rm(LIBS_DIR, { recursive: true, force: true });
    await rename(tmp, LIBS_DIR);
  }
  return { classpath };
}

// ---------------------------------------------------------------------------------------------
// Processes

function nodeDir(stateDir: string, nodeId: number): string {
  return join(stateDir, `node-${nodeId}`);
}

function pidFile(stateDir: string, nodeId: number): string {
  return join(nodeDir(stateDir, nodeId), "kafka.pid");
}

/** Guards against pid reuse: only signal a JVM whose command line names this node's config. */
async function isOurKafka(pid: number, configFile: string): Promise<boolean> {
  const cmdline = await commandLine(pid);
  return cmdline.includes("kafka.Kafka") && cmdline.includes(configFile);
}

/** SIGTERM (or `signal`), then SIGKILL after the grace period; resolves once the node is gone. */
async function stopNodeProcess(stateDir: string, nodeId: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const file = pidFile(stateDir, nodeId);
  const pid = await readPid(file);
  if (pid !== undefined && (await isAlive(pid)) && (await isOurKafka(pid, configPath(stateDir, nodeId)))) {
    signalGroup(pid, signal);
    if (!(await waitForExit(pid, signal === "SIGKILL" ? 10_000 : graceMs))) {
      signalGroup(pid, "SIGKILL");
      if (!(await waitForExit(pid, 10_000))) throw new Error(`kafka node ${nodeId} (pid ${pid}) survived SIGKILL`);
    }
  }
  await rm(file, { force: true });
}

async function recordedNodeIds(stateDir: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir(stateDir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const m = /^node-(\d+)$/.exec(e);
    return m ? [Number(m[1])] : [];
  });
}

/**
 * Stops every Kafka node recorded in stateDir (pid files): SIGTERM to all, SIGKILL after a grace
 * period. Idempotent; leaves the data in place.
 *
 * In a multi-node cluster the last survivors cannot finish a controlled shutdown: their broker waits
 * (up to 5 minutes) for a controller quorum that has already left. Once fewer than a majority of the
 * voters are alive, the rest are killed at once; their data is already in the page cache, so the only
 * cost is log recovery on the next start.
 */
export async function stopKafka(stateDir: string): Promise<void> {
  const dir = resolve(stateDir);
  const ids = await recordedNodeIds(dir);
  const voters = (await readState(dir))?.nodeCount ?? ids.length;
  const running: { nodeId: number; pid: number }[] = [];
  for (const nodeId of ids) {
    const pid = await readPid(pidFile(dir, nodeId));
    if (pid !== undefined && (await isAlive(pid)) && (await isOurKafka(pid, configPath(dir, nodeId)))) {
      running.push({ nodeId, pid });
    }
  }
  for (const r of running) signalGroup(r.pid, "SIGTERM");

  const deadline = Date.now() + STOP_GRACE_MS;
  let quorumLostAt: number | undefined;
  for (;;) {
    const alive: typeof running = [];
    for (const r of running) if (await isAlive(r.pid)) alive.push(r);
    if (alive.length === 0) break;
    if (voters > 1 && alive.length < Math.floor(voters / 2) + 1) quorumLostAt ??= Date.now();
    // A short pause first: a survivor that already got its controlled shutdown approved exits by itself.
    const quorumGone = quorumLostAt !== undefined && Date.now() - quorumLostAt > 1_000;
    if (quorumGone || Date.now() >= deadline) {
      for (const r of alive) signalGroup(r.pid, "SIGKILL");
      for (const r of alive) {
        if (!(await waitForExit(r.pid, 10_000))) throw new Error(`kafka node ${r.nodeId} (pid ${r.pid}) survived SIGKILL`);
      }
      break;
    }
    await sleep(100);
  }
  await Promise.all(ids.map((id) => rm(pidFile(dir, id), { force: true })));
}

// ---------------------------------------------------------------------------------------------
// Configuration

function configPath(stateDir: string, nodeId: number): string {
  return join(nodeDir(stateDir, nodeId), "server.properties");
}

function serverProperties(state: ClusterState, nodeId: number, dataDir: string): string {
  const node = state.nodes.find((n) => n.nodeId === nodeId);
  if (!node) throw new Error(`unknown kafka node ${nodeId}`);
  const rf = state.nodeCount === 3 ? 3 : 1;
  const minIsr = state.nodeCount === 3 ? 2 : 1;
  const props: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": nodeId,
    // Static quorum (kraft.version 0): voters come from config on every start, so ports may change
    // between runs of the same stateDir; a dynamic quorum would pin them in the metadata log.
    "controller.quorum.voters": state.nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(","),
    listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${node.port}`,
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "log.dirs": dataDir,
    // Steward declares its topics explicitly; auto-creation would turn a typo into a silent new
    // topic with the wrong partition count, so producing to an unknown topic fails loudly instead.
    "auto.create.topics.enable": false,
    "num.partitions": 1,
    "default.replication.factor": rf,
    "min.insync.replicas": minIsr,
    "offsets.topic.replication.factor": rf,
    // Fewer internal partitions than the default 50: the first consumer group appears much sooner.
    "offsets.topic.num.partitions": 10,
    "transaction.state.log.replication.factor": rf,
    "transaction.state.log.min.isr": minIsr,
    "transaction.state.log.num.partitions": 10,
    "share.coordinator.state.topic.replication.factor": rf,
    "share.coordinator.state.topic.min.isr": minIsr,
    "group.initial.rebalance.delay.ms": 0,
    // Fence a kill -9'd broker after 6 s instead of 9 s so fault tests fail over sooner (measured 8.6-10 s
    // to the next acked send, 11.5 s at 9 s). Still longer than kafkajs's default retry budget (~9.5 s):
    // producers that must ride out a broker death need more retries, as they would in production.
    "broker.session.timeout.ms": 6_000,
    "broker.heartbeat.interval.ms": 1_000,
    // Thread pools sized for a 2-core machine that may run three nodes plus the services.
    "num.network.threads": 2,
    "num.io.threads": 4,
    "background.threads": 4,
    "num.recovery.threads.per.data.dir": 1,
    "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
  };
  const lines = Object.entries(props).map(([k, v]) => `${k}=${String(v)}`);
  return `# Generated by infra/src/kafka.ts; rewritten on every start.\n${lines.join("\n")}\n`;
}

async function choosePorts(count: number, requested: number | undefined, previous: ClusterState | undefined): Promise<{ port: number; controllerPort: number }[]> {
  if (requested !== undefined && requested > 0) {
    return Array.from({ length: count }, (_, i) => i).map((i) => ({
      port: requested + 2 * i,
      controllerPort: requested + 2 * i + 1,
    }));
  }
  if (previous) {
    // Keep the ports of the last run when they are still free, so clients' addresses stay valid.
    const prev = previous.nodes.map((n) => ({
      port: n.port,
      controllerPort: n.controllerPort,
    }));
    const free = await Promise.all(prev.flatMap((p) => [portIsFree(p.port), portIsFree(p.controllerPort)]));
    if (free.every(Boolean)) return prev;
  }
  const chosen: { port: number; controllerPort: number }[] = [];
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  for (let i = 0; i < count; i++) chosen.push({ port: await next(), controllerPort: await next() });
  return chosen;
}

/** Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding. */
/**
 * A cluster id as Kafka makes them (16 random bytes, base64url), never starting with "-": the storage
 * tool's argument parser takes `-t -Xyz…` for an option and refuses to format (one fresh cluster in 64
 * failed that way). Kafka's own Uuid.randomUuid() skips those ids for the same reason.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

async function readState(stateDir: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, "cluster.json"), "utf8")) as ClusterState;
  } catch {
    return undefined;
  }
}

function jvmArgs(classpath: string, heapMb: number, gcLog?: string): string[] {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 128)}m`,
    // Serial GC: no GC worker threads competing for 2 cores, and pauses stay short on a small heap.
    "-XX:+UseSerialGC",
    // Every pause with its wall-clock time (as Kafka's own start script logs GC), rotated: the bench reads
    // the pauses within its measured windows (test/bench/broker-gc.ts).
    // (-Xlog's own syntax splits on ':' and ',': a path holding either goes without the log.)
    ...(gcLog === undefined || /[:,]/.test(gcLog) ? [] : [`-Xlog:gc:file=${gcLog}:time,uptime:filecount=3,filesize=10m`]),
    // The fewest JIT threads tiered compilation allows. C1 only (-XX:TieredStopAtLevel=1) started about
    // 2 s sooner, but benchmarks should see a fully compiled broker.
    "-XX:CICompilerCount=2",
    "-XX:MaxDirectMemorySize=256m",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    "-cp",
    classpath,
  ];
}

async function formatIfNeeded(classpath: string, clusterId: string, config: string, dataDir: string): Promise<boolean> {
  if (existsSync(join(dataDir, "meta.properties"))) return false;
  try {
    await execFileAsync(javaBin(), [...jvmArgs(classpath, 256), "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config], {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const out = `${e.stdout ?? ""}${e.stderr ?? ""}`.split("\n").slice(-30).join("\n");
    throw new Error(`kafka storage format failed for ${dataDir}:\n${out}\n${e.message}`);
  }
  return true;
}

interface Spawned {
  pid: number;
  /** Rejects if the JVM exits; never resolves otherwise. */
  exited: Promise<never>;
}

async function spawnNode(stateDir: string, node: KafkaNodeInfo, classpath: string, heapMb: number): Promise<Spawned> {
  const out = await open(node.logFile, "a");
  try {
    await out.write(`\n===== starting kafka node ${node.nodeId} at ${new Date().toISOString()} =====\n`);
    const child = spawn(javaBin(), [...jvmArgs(classpath, heapMb, join(nodeDir(stateDir, node.nodeId), "gc.log")), "kafka.Kafka", configPath(stateDir, node.nodeId)], {
      detached: true,
      stdio: ["ignore", out.fd, out.fd],
      cwd: nodeDir(stateDir, node.nodeId),
    });
    const pid = child.pid;
    if (pid === undefined) {
      const err = await new Promise<Error>((r) => child.once("error", r));
      throw new Error(`could not start java for kafka node ${node.nodeId}: ${err.message}`);
    }
    child.unref();
    await writeFile(pidFile(stateDir, node.nodeId), `${pid}\n`);
    node.pid = pid;
    const exited = new Promise<never>((_, rej) => {
      child.once("exit", (code, sig) => {
        if (node.pid === pid) node.pid = 0;
        void tail(node.logFile, 40).then((t) => rej(new Error(`kafka node ${node.nodeId} exited (code ${code ?? "-"}, signal ${sig ?? "-"}); ${node.logFile}:\n${t}`)));
      });
    });
    exited.catch(noop); // only observed while waiting for readiness
    return { pid, exited };
  } finally {
    await out.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Readiness

class KafkaIdentityError extends Error {
  override name = "KafkaIdentityError";
}

/**
 * Resolves once a kafkajs admin describeCluster() through `brokers` succeeds and lists every one of
 * them (so for three nodes, all three have registered and been unfenced). An open port is not enough:
 * the socket accepts before the broker has caught up with the metadata log. With `clusterId`, a
 * broker of another cluster on these ports fails the wait at once instead of passing it.
 */
export async function waitForKafka(brokers: string[], timeoutMs: number, opts: { clusterId?: string } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "not attempted";
  while (Date.now() < deadline) {
    const kafka = new Kafka({
      clientId: "steward-infra-readiness",
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 3_000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      const seen = new Set(cluster.brokers.map((b) => `${b.host}:${b.port}`));
      const missing = brokers.filter((b) => !seen.has(b));
      if (opts.clusterId !== undefined && cluster.clusterId !== opts.clusterId) {
        // Someone else's broker answers on this port: waiting longer will not help.
        throw new KafkaIdentityError(`${brokers.join(",")} answers with cluster id ${cluster.clusterId}, expected ${opts.clusterId}`);
      }
      if (missing.length === 0 && cluster.controller !== null) return;
      lastError = `brokers not yet visible: ${missing.join(", ") || "(no controller)"}`;
    } catch (err) {
      if (err instanceof KafkaIdentityError) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    } finally {
      await admin.disconnect().catch(noop);
    }
    await sleep(250);
  }
  throw new Error(`kafka at ${brokers.join(",")} not ready after ${timeoutMs} ms: ${lastError}`);
}

async function readyOrExit(brokers: string[], clusterId: string, timeoutMs: number, spawned: Spawned[]): Promise<void> {
  await Promise.race([waitForKafka(brokers, timeoutMs, { clusterId }), ...spawned.map((s) => s.exited)]);
}

// ---------------------------------------------------------------------------------------------
// Cluster

/**
 * Starts a 1- or 3-node KRaft cluster whose config, data, logs and pid files live in stateDir, and
 * resolves once it is ready. Stale nodes of the same stateDir are stopped first; data survives
 * restarts. The JVMs are detached: they outlive this process until stop() / stopKafka(stateDir).
 */
export async function startKafka(opts: StartKafkaOptions): Promise<KafkaCluster> {
  const log = opts.log ?? noop;
  const stateDir = resolve(opts.stateDir);
  const nodeCount = opts.nodes ?? 1;
  const heapMb = opts.heapMb ?? (nodeCount === 3 ? 384 : 512);
  const timeoutMs = opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  const { classpath } = await prepareKafka({ log });

  await stopKafka(stateDir);
  await mkdir(stateDir, { recursive: true });

  const previous = await readState(stateDir);
  if (previous && previous.nodeCount !== nodeCount) {
    throw new Error(`${stateDir} holds a ${previous.nodeCount}-node Kafka cluster, not ${nodeCount}; use another stateDir or delete it`);
  }
  const ports = await choosePorts(nodeCount, opts.port, previous);
  const busy: number[] = [];
  for (const p of ports.flatMap((x) => [x.port, x.controllerPort])) if (!(await portIsFree(p))) busy.push(p);
  if (busy.length > 0) {
    throw new Error(`port(s) ${busy.join(", ")} on 127.0.0.1 already in use (another Kafka? see \`ss -ltnp\`); pick another port or 0`);
  }
  const state: ClusterState = {
    clusterId: previous?.clusterId ?? newClusterId(),
    nodeCount,
    nodes: ports.map((p, i) => ({ nodeId: i + 1, ...p })),
  };
  await writeFile(join(stateDir, "cluster.json"), `${JSON.stringify(state, null, 2)}\n`);

  const nodes: KafkaNodeInfo[] = state.nodes.map((n) => ({
    ...n,
    pid: 0,
    logFile: join(nodeDir(stateDir, n.nodeId), "kafka.log"),
    dataDir: join(nodeDir(stateDir, n.nodeId), "data"),
  }));
  const brokers = nodes.map((n) => `127.0.0.1:${n.port}`);

  await Promise.all(
    nodes.map(async (n) => {
      await mkdir(n.dataDir, { recursive: true });
      await writeFile(configPath(stateDir, n.nodeId), serverProperties(state, n.nodeId, n.dataDir));
      if (await formatIfNeeded(classpath, state.clusterId, configPath(stateDir, n.nodeId), n.dataDir)) {
        log(`formatted ${n.dataDir} (cluster ${state.clusterId})`);
      }
    }),
  );

  const spawned = await Promise.all(nodes.map((n) => spawnNode(stateDir, n, classpath, heapMb)));
  log(`kafka ${nodeCount === 3 ? "nodes" : "node"} starting: ${brokers.join(",")} (logs in ${stateDir})`);
  try {
    await readyOrExit(brokers, state.clusterId, timeoutMs, spawned);
  } catch (err) {
    await stopKafka(stateDir);
    throw err;
  }
  log(`kafka ready: ${brokers.join(",")}`);

  const nodeById = (nodeId: number): KafkaNodeInfo => {
    const n = nodes.find((x) => x.nodeId === nodeId);
    if (!n) throw new Error(`no kafka node ${nodeId} in ${stateDir}`);
    return n;
  };

  return {
    brokers,
    nodes,
    stateDir,
    stop: () => stopKafka(stateDir),
    async killNode(nodeId, signal = "SIGKILL") {
      const n = nodeById(nodeId);
      await stopNodeProcess(stateDir, nodeId, signal, STOP_GRACE_MS);
      n.pid = 0;
    },
    async startNode(nodeId) {
      const n = nodeById(nodeId);
      await stopNodeProcess(stateDir, nodeId, "SIGTERM", STOP_GRACE_MS);
      const s = await spawnNode(stateDir, n, classpath, heapMb);
      try {
        // Ask the restarted node itself: other nodes may still list its old, not yet fenced registration.
        await readyOrExit([`127.0.0.1:${n.port}`], state.clusterId, timeoutMs, [s]);
        await waitForKafka(brokers, timeoutMs, { clusterId: state.clusterId });
      } catch (err) {
        await stopNodeProcess(stateDir, nodeId, "SIGKILL", 0);
        throw err;
      }
    },
  };
}
