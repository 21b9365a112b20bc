// ./steward stop — ends what ./steward start left running, from any terminal: the start process (which
// stops its services and Kafka and the store itself), then anything it could not stop because it was
// killed first (services, Kafka nodes, FerretDB), found through the pid files under .steward.
import { stopFerretDb, stopKafka } from "@steward/infra";
import { waitForExit } from "@steward/infra/local-process";
import { ferretDbDir, forgetPid, kafkaDir, runningInfraPids, runningPid, services, stopRecorded } from "./local-run.ts";

const log = (m: string) => process.stdout.write(`[steward] ${m}\n`);
let stopped = 0;

const start = await runningPid("start");
if (start !== undefined) {
  log(`stopping ./steward start (pid ${start})`);
  process.kill(start, "SIGTERM");
  // Its own shutdown waits for each service's graceful close (up to 15 s) and then for Kafka.
  if (!(await waitForExit(start, 60_000))) {
    log(`./steward start (pid ${start}) did not exit within 60 s; killing it`);
    process.kill(start, "SIGKILL");
    await waitForExit(start, 5_000);
  }
  stopped += 1;
}
await forgetPid("start");

const leftovers = await Promise.all(services.map(async (s) => ((await stopRecorded(s.name, 20_000)) ? s.name : undefined)));
for (const name of leftovers) if (name !== undefined) log(`stopped ${name}`);
stopped += leftovers.filter(Boolean).length;

const infra = await runningInfraPids();
if (infra.kafka.length > 0 || infra.ferretdb !== undefined) {
  await Promise.all([stopKafka(kafkaDir), stopFerretDb(ferretDbDir)]);
  if (infra.kafka.length > 0) log(`stopped kafka (${infra.kafka.length} node${infra.kafka.length === 1 ? "" : "s"})`);
  if (infra.ferretdb !== undefined) log("stopped the store (ferretdb)");
  stopped += 1;
}
log(stopped > 0 ? "stopped" : "nothing was running");
