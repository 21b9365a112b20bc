// ./steward kafka <tool> [args...]: Apache Kafka's own command-line tools, from the same Maven release as
// the broker (infra/kafka/tools-pom.xml, kafka.version as in pom.xml), so operators use the documented tools without a Kafka download.
// Without --bootstrap-server, the tool is pointed at KAFKA_BROKERS, else at ./steward infra up's Kafka.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const KAFKA_DIR = resolve(here, "../kafka");
const TOOLS_POM = join(KAFKA_DIR, "tools-pom.xml");
const TOOLS_LIBS = join(KAFKA_DIR, "target", "tools-libs");
const LOG4J_CONFIG = join(KAFKA_DIR, "log4j2-tools.properties");
const INFRA_ENV = resolve(here, "../../.steward/infra/env");

/**
 * Resolves the tools' jars with Maven into target/tools-libs once per tools-pom.xml content (a stamp holds
 * its hash). A separate directory from the broker's jars: see the note in tools-pom.xml.
 */
export async function prepareKafkaTools(log: (m: string) => void = () => undefined): Promise<{ classpath: string }> {
  const classpath = join(TOOLS_LIBS, "*");
  const hash = createHash("sha256")
    .update(await readFile(TOOLS_POM))
    .digest("hex");
  const stamp = join(TOOLS_LIBS, ".pom-sha256");
  if (existsSync(stamp) && (await readFile(stamp, "utf8")).trim() === hash) return { classpath };
  log(`resolving the Kafka tools with Maven into ${TOOLS_LIBS}`);
  const tmp = `${TOOLS_LIBS}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await promisify(execFile)("mvn", ["-q", "-B", "-f", TOOLS_POM, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${tmp}`], {
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`mvn failed to resolve the Kafka tools (needs mvn and Java 17+):\n${e.stdout ?? ""}${e.stderr ?? ""}\n${e.message}`);
  }
  await writeFile(join(tmp, ".pom-sha256"), `${hash}\n`);
  await rm(TOOLS_LIBS, { recursive: true, force: true });
  await rename(tmp, TOOLS_LIBS);
  return { classpath };
}

/** The tools by the name of their script in the Kafka release (kafka-topics.sh -> topics), and their main class. */
export const KAFKA_TOOLS = {
  topics: "org.apache.kafka.tools.TopicCommand",
  "console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
  "console-producer": "org.apache.kafka.tools.ConsoleProducer",
  "consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  "get-offsets": "org.apache.kafka.tools.GetOffsetShell",
  configs: "kafka.admin.ConfigCommand",
  "delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
  "log-dirs": "org.apache.kafka.tools.LogDirsCommand",
  "metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
  "broker-api-versions": "org.apache.kafka.tools.BrokerApiVersionsCommand",
  "leader-election": "org.apache.kafka.tools.LeaderElectionCommand",
  "reassign-partitions": "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
  "producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
  "consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
} as const;
export type KafkaToolName = keyof typeof KAFKA_TOOLS;

export function isKafkaTool(name: string): name is KafkaToolName {
  return Object.hasOwn(KAFKA_TOOLS, name);
}

/** Where the tools connect when no --bootstrap-server is given. */
export function defaultBootstrap(env: NodeJS.ProcessEnv = process.env): string {
  if (env["KAFKA_BROKERS"]) return env["KAFKA_BROKERS"];
  if (existsSync(INFRA_ENV)) {
    const line = readFileSync(INFRA_ENV, "utf8")
      .split("\n")
      .find((l) => l.startsWith("KAFKA_BROKERS="));
    if (line) return line.slice("KAFKA_BROKERS=".length).trim();
  }
  return "127.0.0.1:9092";
}

/** The java command line for a tool; --bootstrap-server is added unless the arguments name a server already. */
export async function kafkaToolCommand(tool: KafkaToolName, args: readonly string[], bootstrap = defaultBootstrap()): Promise<string[]> {
  const { classpath } = await prepareKafkaTools((m) => process.stderr.write(`[kafka] ${m}\n`));
  const named = args.some((a) => a === "--bootstrap-server" || a.startsWith("--bootstrap-server=") || a === "--bootstrap-controller" || a === "--broker-list");
  const extra = named || args.includes("--help") || args.includes("--version") ? [] : ["--bootstrap-server", bootstrap];
  return ["java", "-Xmx256m", "-XX:+UseSerialGC", `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`, "-cp", classpath, KAFKA_TOOLS[tool], ...extra, ...args];
}

/** Runs a tool and collects its output (for tests and scripts); `./steward kafka` streams instead. */
export async function runKafkaTool(tool: KafkaToolName, args: readonly string[], bootstrap?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...rest] = await kafkaToolCommand(tool, args, bootstrap);
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd as string, rest, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ code: code ?? 1, stdout, stderr }));
  });
}

function usage(): string {
  return `usage: ./steward kafka <tool> [args...]   (Kafka's own tools; --bootstrap-server defaults to ${defaultBootstrap()})\ntools: ${Object.keys(KAFKA_TOOLS).join(", ")}\nexample: ./steward kafka topics --list\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [tool, ...args] = process.argv.slice(2);
  if (tool === undefined || tool === "--help" || tool === "help" || !isKafkaTool(tool)) {
    process.stderr.write(tool && tool !== "--help" && tool !== "help" ? `unknown tool ${tool}\n${usage()}` : usage());
    process.exit(tool === undefined || !isKafkaTool(tool) ? 2 : 0);
  }
  const [cmd, ...rest] = await kafkaToolCommand(tool, args);
  const child = spawn(cmd as string, rest, { stdio: "inherit" });
  // Ctrl-C reaches the tool through the terminal's process group; its exit status becomes ours.
  child.on("close", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
}
