// ./steward status — which of the processes ./steward start runs are up, where, and whether they answer:
// each service's /health/ready, Kafka's metadata, the store's ping. Exits 1 when anything is not ready.
import { waitForKafka, waitForMongo } from "@steward/infra";
import { logDir, recordedBrokers, recordedMongoUri, runningInfraPids, runningPid, services } from "./local-run.ts";

const rows: Array<[string, string, string, string]> = [];
let allReady = true;

const start = await runningPid("start");
rows.push(["steward start", start !== undefined ? "running" : "not running", start !== undefined ? `pid ${start}` : "(./steward start)", ""]);

await Promise.all(
  services.map(async (s, i) => {
    const pid = await runningPid(s.name);
    const answer = await fetch(`http://127.0.0.1:${s.port}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => (r.ok ? "ready" : `not ready (${r.status})`),
      () => undefined,
    );
    // A port that answers without our pid file is someone else's process (another worktree, say).
    const state = answer === undefined ? (pid !== undefined ? "not answering" : "down") : pid === undefined ? `${answer}, not started here` : answer;
    if (state !== "ready") allReady = false;
    rows[i + 1] = [s.name, state, s.url, pid !== undefined ? `pid ${pid}` : ""];
  }),
);

const [brokers, mongoUri, infra] = await Promise.all([recordedBrokers(), recordedMongoUri(), runningInfraPids()]);
const [kafka, store] = await Promise.allSettled([
  brokers && infra.kafka.length > 0 ? waitForKafka(brokers, 3_000) : Promise.reject(new Error("not running")),
  mongoUri && infra.ferretdb !== undefined ? waitForMongo(mongoUri, 3_000) : Promise.reject(new Error("not running")),
]);
rows.push(["kafka", kafka.status === "fulfilled" ? "ready" : "down", brokers?.join(",") ?? "", infra.kafka.length > 0 ? `pid ${infra.kafka.join(",")}` : ""]);
rows.push(["store", store.status === "fulfilled" ? "ready" : "down", mongoUri ?? "", infra.ferretdb !== undefined ? `pid ${infra.ferretdb}` : ""]);
if (kafka.status !== "fulfilled" || store.status !== "fulfilled") allReady = false;

const width = (c: 0 | 1 | 2) => Math.max(...rows.map((r) => r[c].length));
for (const r of rows) process.stdout.write(`${r[0].padEnd(width(0))}  ${r[1].padEnd(width(1))}  ${r[2].padEnd(width(2))}  ${r[3]}`.trimEnd() + "\n");
process.stdout.write(`logs: ${logDir} (./steward logs [service])\n`);
process.exitCode = allReady ? 0 : 1;
