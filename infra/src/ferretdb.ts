// Runs FerretDB v1 (MongoDB wire protocol over SQLite) as a local process, for dev, integration and
// fault tests on machines without Docker or mongod. The binary is our tiny Go program in infra/ferretdb.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, isAlive, portIsFree, readPid, signalGroup, sleep, tail, waitForExit } from "./local-process.ts";
import { promisify } from "node:util";
import { MongoClient } from "mongodb";

const execFileAsync = promisify(execFile);

const FERRETDB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../ferretdb");
const BIN_DIR = join(FERRETDB_DIR, "bin");
const BINARY = join(BIN_DIR, "steward-ferretdb");
const STAMP = `${BINARY}.sha256`;
const INSTALL_HINT =
  "install Go 1.24+ (https://go.dev/doc/install, or `apt-get install golang` on a distribution that ships 1.24+); " +
  "it is needed once, to build infra/ferretdb from the Go module proxy";

const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export type FerretDbLogLevel = "debug" | "info" | "warn" | "error";

export interface RunningStore {
  /** mongodb://127.0.0.1:PORT/ */
  uri: string;
  port: number;
  /** Pid of the FerretDB process; updated in place by restart(), 0 while it is down. */
  pid: number;
  /** Directory of the SQLite files (one per MongoDB database). */
  dataDir: string;
  logFile: string;
  /** SIGTERM, then SIGKILL after a grace period; same as stopFerretDb(stateDir). */
  stop(): Promise<void>;
  /** Signals the process (default SIGKILL) and waits until it has exited. Data stays for restart(). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the process if it runs, starts it again on the same port and data, and waits until it answers. */
  restart(): Promise<void>;
}

export interface StartFerretDbOptions {
  /** Holds data/, ferretdb.log, ferretdb.pid and ferretdb.uri. Created if missing; data survives restarts. */
  stateDir: string;
  /** 0/undefined: the port of the last run in this stateDir if still free, else a free one. */
  port?: number;
  /** FerretDB's own log level; default "warn" (info logs every client connection). */
  logLevel?: FerretDbLogLevel;
  startupTimeoutMs?: number;
  log?: (msg: string) => void;
}

const noop = (): void => {};

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Build

/** Hash of everything the build reads from infra/ferretdb: go.mod, go.sum and the .go files. */
async function sourcesHash(): Promise<string> {
  const names = (await readdir(FERRETDB_DIR)).filter((n) => n === "go.mod" || n === "go.sum" || n.endsWith(".go")).sort();
  const hash = createHash("sha256");
  for (const name of names)
    hash
      .update(name)
      .update("\0")
      .update(await readFile(join(FERRETDB_DIR, name)))
      .update("\0");
  return hash.digest("hex");
}

async function stampMatches(hash: string): Promise<boolean> {
  try {
    return existsSync(BINARY) && (await readFile(STAMP, "utf8")).trim() === hash;
  } catch {
    return false;
  }
}

async function goVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync("go", ["version"], { timeout: 60_000 });
    return stdout.trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`\`go version\` failed: ${errorText(err)}; ${INSTALL_HINT}`);
  }
}

/**
 * Builds infra/ferretdb/bin/steward-ferretdb once per content of go.mod, go.sum and *.go (a stamp
 * file beside the binary holds their hash, so later calls do not start Go at all). The first build
 * downloads the modules and compiles pure-Go SQLite: about two minutes on two cores.
 */
export async function prepareFerretDb(opts: { log?: (msg: string) => void } = {}): Promise<{ binary: string }> {
  const log = opts.log ?? noop;
  const hash = await sourcesHash();
  if (await stampMatches(hash)) return { binary: BINARY };

  const version = await goVersion();
  if (version === undefined) throw new Error(`go not found on PATH; ${INSTALL_HINT}`);
  log(`building ${BINARY} with ${version} (first build takes a few minutes)`);
  await mkdir(BIN_DIR, { recursive: true });
  // Build to a private path and rename, so an interrupted or concurrent build never leaves half a binary.
  const tmp = `${BINARY}.tmp-${process.pid}`;
  const started = Date.now();
  try {
    // Pure Go (modernc.org/sqlite), so CGO_ENABLED=0: no C compiler needed. -mod=readonly refuses to
    // rewrite go.mod/go.sum; -buildvcs=false keeps git (and its ownership checks) out of the build.
    await execFileAsync("go", ["build", "-trimpath", "-mod=readonly", "-buildvcs=false", "-ldflags=-s -w", "-o", tmp, "."], {
      cwd: FERRETDB_DIR,
      env: { ...process.env, CGO_ENABLED: "0" },
      timeout: 30 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    await rm(tmp, { force: true });
    throw new Error(`go build of ${FERRETDB_DIR} failed:\n${e.stdout ?? ""}${e.stderr ?? ""}\n${e.message}`);
  }
  await rename(tmp, BINARY);
  await writeFile(STAMP, `${hash}\n`);
  log(`built ${BINARY} in ${Math.round((Date.now() - started) / 1000)} s`);
  return { binary: BINARY };
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Paths {
  stateDir: string;
  dataDir: string;
  logFile: string;
  pidFile: string;
  uriFile: string;
}

function pathsOf(stateDir: string): Paths {
  const dir = resolve(stateDir);
  return {
    stateDir: dir,
    dataDir: join(dir, "data"),
    logFile: join(dir, "ferretdb.log"),
    pidFile: join(dir, "ferretdb.pid"),
    uriFile: join(dir, "ferretdb.uri"),
  };
}

/** Guards against pid reuse: only signal our binary serving this stateDir's data. */
async function isOurFerretDb(pid: number, dataDir: string): Promise<boolean> {
  const cmdline = await commandLine(pid);
  return (cmdline[0] ?? "").endsWith("steward-ferretdb") && cmdline.includes(dataDir);
}

async function stopProcess(paths: Paths, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const pid = await readPid(paths.pidFile);
  if (pid !== undefined && (await isAlive(pid)) && (await isOurFerretDb(pid, paths.dataDir))) {
    signalGroup(pid, signal);
    if (!(await waitForExit(pid, signal === "SIGKILL" ? 10_000 : graceMs))) {
      signalGroup(pid, "SIGKILL");
      if (!(await waitForExit(pid, 10_000))) throw new Error(`ferretdb (pid ${pid}) survived SIGKILL`);
    }
  }
  await rm(paths.pidFile, { force: true });
}

/** Stops the FerretDB recorded in stateDir's pid file: SIGTERM, then SIGKILL after 10 s. Idempotent; keeps the data. */
export async function stopFerretDb(stateDir: string): Promise<void> {
  await stopProcess(pathsOf(stateDir), "SIGTERM", STOP_GRACE_MS);
}

async function previousPort(uriFile: string): Promise<number | undefined> {
  try {
    const port = Number(new URL((await readFile(uriFile, "utf8")).trim()).port);
    return port > 0 && (await portIsFree(port)) ? port : undefined;
  } catch {
    return undefined;
  }
}

interface Spawned {
  pid: number;
  /** Rejects when the process exits; never resolves. */
  exited: Promise<never>;
}

async function spawnFerretDb(binary: string, paths: Paths, port: number, logLevel: FerretDbLogLevel): Promise<Spawned> {
  await rm(paths.uriFile, { force: true });
  const out = await open(paths.logFile, "a");
  try {
    await out.write(`\n===== starting steward-ferretdb at ${new Date().toISOString()} =====\n`);
    const args = ["-listen-addr", `127.0.0.1:${port}`, "-data-dir", paths.dataDir, "-addr-file", paths.uriFile, "-log-level", logLevel];
    // Diagnosis only: Go's profiles of the store (infra/ferretdb/pprof.go).
    const pprof = process.env["STEWARD_FERRETDB_PPROF_ADDR"];
    if (pprof) args.push("-pprof-addr", pprof);
    const child = spawn(binary, args, { detached: true, stdio: ["ignore", out.fd, out.fd], cwd: paths.stateDir });
    const pid = child.pid;
    if (pid === undefined) {
      const err = await new Promise<Error>((r) => child.once("error", r));
      throw new Error(`could not start ${binary}: ${err.message}`);
    }
    child.unref();
    await writeFile(paths.pidFile, `${pid}\n`);
    const exited = new Promise<never>((_, rej) => {
      child.once("exit", (code, sig) => {
        void tail(paths.logFile, 20).then((t) => rej(new Error(`ferretdb exited (code ${code ?? "-"}, signal ${sig ?? "-"}); ${paths.logFile}:\n${t}`)));
      });
    });
    exited.catch(noop); // only observed while waiting for readiness
    return { pid, exited };
  } finally {
    await out.close();
  }
}

/** The binary writes its URI (with the real port) once the listener is bound. */
async function waitForUriFile(uriFile: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const uri = (await readFile(uriFile, "utf8")).trim();
      if (uri !== "") return uri;
    } catch {
      /* not written yet */
    }
    if (Date.now() >= deadline) throw new Error(`ferretdb did not report its address within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Spawns and waits for readiness; on any failure the process is gone before this rejects. */
async function launch(binary: string, paths: Paths, port: number, logLevel: FerretDbLogLevel, timeoutMs: number): Promise<{ pid: number; uri: string; port: number }> {
  const s = await spawnFerretDb(binary, paths, port, logLevel);
  try {
    const uri = await Promise.race([waitForUriFile(paths.uriFile, timeoutMs), s.exited]);
    await Promise.race([waitForMongo(uri, timeoutMs), s.exited]);
    return { pid: s.pid, uri, port: Number(new URL(uri).port) };
  } catch (err) {
    await stopProcess(paths, "SIGKILL", 0);
    throw err;
  }
}

/**
 * Resolves once a MongoDB `ping` through the driver succeeds: a real round trip through FerretDB's
 * handler and SQLite backend, not just an open port.
 */
export async function waitForMongo(uri: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "not attempted";
  while (Date.now() < deadline) {
    const client = new MongoClient(uri, {
      serverSelectionTimeoutMS: Math.max(250, Math.min(2_000, deadline - Date.now())),
      connectTimeoutMS: 2_000,
      appName: "steward-infra-readiness",
    });
    try {
      await client.db("admin").command({ ping: 1 });
      return;
    } catch (err) {
      lastError = errorText(err);
    } finally {
      await client.close().catch(noop);
    }
    await sleep(100);
  }
  throw new Error(`mongodb at ${uri} not ready after ${timeoutMs} ms: ${lastError}`);
}

/**
 * Starts FerretDB on 127.0.0.1 with its SQLite files, log, pid and uri files in stateDir, and resolves
 * once it answers a ping. A stale process of the same stateDir is stopped first; data survives
 * restarts. The process is detached: it outlives this one until stop() / stopFerretDb(stateDir).
 */
export async function startFerretDb(opts: StartFerretDbOptions): Promise<RunningStore> {
  const log = opts.log ?? noop;
  const paths = pathsOf(opts.stateDir);
  const logLevel = opts.logLevel ?? "warn";
  const timeoutMs = opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  const { binary } = await prepareFerretDb({ log });

  await stopFerretDb(paths.stateDir);
  await mkdir(paths.dataDir, { recursive: true });

  const requested = opts.port !== undefined && opts.port > 0 ? opts.port : undefined;
  const remembered = requested === undefined ? await previousPort(paths.uriFile) : undefined;
  let started: { pid: number; uri: string; port: number };
  try {
    started = await launch(binary, paths, requested ?? remembered ?? 0, logLevel, timeoutMs);
  } catch (err) {
    // The remembered port may have been taken since we checked it; any free port will do.
    if (remembered === undefined) throw err;
    started = await launch(binary, paths, 0, logLevel, timeoutMs);
  }
  log(`ferretdb ready: ${started.uri} (data in ${paths.dataDir})`);

  const store: RunningStore = {
    uri: started.uri,
    port: started.port,
    pid: started.pid,
    dataDir: paths.dataDir,
    logFile: paths.logFile,
    async stop() {
      await stopProcess(paths, "SIGTERM", STOP_GRACE_MS);
      store.pid = 0;
    },
    async kill(signal = "SIGKILL") {
      await stopProcess(paths, signal, STOP_GRACE_MS);
      store.pid = 0;
    },
    async restart() {
      await stopProcess(paths, "SIGTERM", STOP_GRACE_MS);
      store.pid = 0;
      // Same port, so clients holding store.uri reconnect without being told anything.
      store.pid = (await launch(binary, paths, store.port, logLevel, timeoutMs)).pid;
    },
  };
  return store;
}
