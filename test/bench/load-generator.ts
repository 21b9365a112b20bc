// The load generator, a process of its own: offers tickets at a fixed open-loop rate. Sends are
// scheduled by the clock, never by answers, and every latency is measured from the intended send time,
// so a slow answer cannot hold back the next send and hide its own delay (no coordinated omission).
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { CHANNELS } from "@steward/proto/vocabulary";
import { nowMs } from "./clock.ts";
import { serveBenchRequests } from "./ipc.ts";

export interface GeneratorRun {
  /** Base URLs that answer POST /v1/tickets (intake instances, or the floor's HTTP stage); used in turn. */
  targets: string[];
  rate: number;
  warmupS: number;
  durationS: number;
  timeoutMs: number;
  /** Unique per step: goes into external and customer ids, so no ticket is a duplicate or a follow-up. */
  tag: string;
}

/** Column-wise, one entry per intended send; times on the shared monotonic clock (ms). */
export interface GeneratorResult {
  measureFrom: number;
  intended: Float64Array;
  sentAt: Float64Array;
  /** Time the answer's status line arrived; NaN when none did. */
  answeredAt: Float64Array;
  /** HTTP status; -1 timed out, -2 connection error. */
  status: Int16Array;
  ticketIds: string[];
}

const root = fileURLToPath(new URL("../../", import.meta.url));

interface Sample {
  subject: string;
  body: string;
}

function loadSamples(): Sample[] {
  const file = `${root}services/triage/data/messages.jsonl`;
  if (!existsSync(file)) return [{ subject: "Cannot log in", body: "Hi, I cannot log in to my account since this morning. Please help!" }];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Sample)
    .map((s) => ({ subject: s.subject, body: s.body }));
}

const samples = loadSamples();
const pools = new Map<string, Pool>();
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 128);

function poolFor(target: string): Pool {
  let pool = pools.get(target);
  if (!pool) {
    pool = new Pool(target, { connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 120_000 });
    pools.set(target, pool);
  }
  return pool;
}

async function run(spec: GeneratorRun): Promise<GeneratorResult> {
  const total = Math.round(spec.rate * (spec.warmupS + spec.durationS));
  const warm = Math.round(spec.rate * spec.warmupS);
  const interval = 1000 / spec.rate;
  const intended = new Float64Array(total);
  const sentAt = new Float64Array(total);
  const answeredAt = new Float64Array(total).fill(Number.NaN);
  const status = new Int16Array(total);
  const ticketIds: string[] = new Array<string>(total).fill("");
  const targets = spec.targets.map(poolFor);
  let settled = 0;
  let allSettled: () => void = () => {};
  const done = new Promise<void>((r) => (allSettled = r));

  const send = (i: number) => {
    const sample = samples[i % samples.length] as Sample;
    const body = JSON.stringify({
      channel: CHANNELS[i % CHANNELS.length],
      externalId: `${spec.tag}-${i}`,
      customer: { id: `${spec.tag}-c${i}`, name: `Bench customer ${i}` },
      subject: sample.subject,
      body: sample.body,
    });
    sentAt[i] = nowMs();
    const pool = targets[i % targets.length] as Pool;
    pool
      .request({ path: "/v1/tickets", method: "POST", headers: { "content-type": "application/json" }, body, headersTimeout: spec.timeoutMs, bodyTimeout: spec.timeoutMs })
      .then(async (res) => {
        answeredAt[i] = nowMs();
        status[i] = res.statusCode;
        const text = await res.body.text();
        if (res.statusCode === 202) ticketIds[i] = (JSON.parse(text) as { ticketId: string }).ticketId;
      })
      .catch((err: unknown) => {
        const code = (err as { code?: string }).code ?? "";
        status[i] = code.includes("TIMEOUT") ? -1 : -2;
      })
      .finally(() => {
        settled += 1;
        if (settled === total) allSettled();
      });
  };

  const t0 = nowMs() + 20;
  for (let i = 0; i < total; i += 1) intended[i] = t0 + i * interval;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (next < total && (intended[next] as number) <= now) send(next++);
      if (next >= total) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  });
  if (total > 0) await done;
  return { measureFrom: warm < total ? (intended[warm] as number) : t0, intended, sentAt, answeredAt, status, ticketIds };
}

serveBenchRequests({
  run: (spec: GeneratorRun) => run(spec),
  close: async () => {
    await Promise.all([...pools.values()].map((p) => p.close()));
    pools.clear();
  },
});
