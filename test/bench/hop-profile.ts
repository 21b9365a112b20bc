// Where a measured ticket's time went, hop by hop. After a Steward phase (before its topics are deleted)
// the bench reads the timestamps Kafka holds for each ticket's records: ticket.received (intake's publish),
// ticket.triaged (triage's), routing's log record that first holds an offer (the leader's decision,
// before acks=all) and the offerMade event (sent once the log acknowledged it). With the load generator's
// send time and the agent's arrival time, every ticket's intake-to-offer latency splits into six hops
// that add up to it exactly. Kafka's CreateTime is the producing process's Date.now() when its request is
// built; it is put on the bench's monotonic clock with one offset taken in this process (all processes
// share both clocks), so each hop is good to about a millisecond.
import { Kafka, logLevel } from "kafkajs";
import { Topics } from "@steward/proto";
import { decodeEnvelope } from "@steward/messaging";
import { ROUTING_LOG_TOPIC, type LogEntry } from "@steward/routing/log-check";
import { nowMs } from "./clock.ts";
import { summarize, round, type LatencySummary } from "./stats.ts";

/** One measured ticket as the load generator and the agents saw it (bench monotonic ms). */
export interface TicketTimes {
  ticketId: string;
  intended: number;
  sentAt: number;
  offeredAt: number;
}

/** Kafka CreateTime of a ticket's records, epoch ms. */
export interface StageTimes {
  received?: number;
  triaged?: number;
  offerLogged?: number;
  offerSent?: number;
}

export const HOPS = [
  ["generator", "load generator late (sent - intended)"],
  ["intake", "intake: request to ticket.received on its way"],
  ["triage", "ticket.received to ticket.triaged on its way (Kafka hop, triage's store writes and decision)"],
  ["routing", "ticket.triaged to the offer's log append (Kafka hop, routing's decision)"],
  ["logAck", "log append to offerMade on its way (acks=all on the routing log)"],
  ["agent", "offerMade to the agent's stream (local delivery, SSE, the agent's parse)"],
] as const;
export type HopName = (typeof HOPS)[number][0];

export interface HopProfile {
  /** Tickets with every timestamp (the others are counted in `incomplete`). */
  tickets: number;
  incomplete: number;
  /** Each hop's own distribution over the step's tickets. */
  hops: Array<{ hop: HopName; what: string; summary: LatencySummary }>;
  /** The slowest 1 % of tickets by intake-to-offer (at least one): their mean per hop, and that hop's share of their total. */
  slowest: { tickets: number; totalMeanMs: number; hops: Array<{ hop: HopName; meanMs: number; share: number }> };
}

/** Splits each ticket's intake-to-offer time into hops. `epochToMono` turns an epoch ms into bench monotonic ms. */
export function hopProfile(tickets: readonly TicketTimes[], stages: ReadonlyMap<string, StageTimes>, epochToMono: (epochMs: number) => number): HopProfile {
  const rows: Array<Record<HopName, number> & { total: number }> = [];
  let incomplete = 0;
  for (const t of tickets) {
    const s = stages.get(t.ticketId);
    if (s?.received === undefined || s.triaged === undefined || s.offerLogged === undefined || s.offerSent === undefined) {
      incomplete += 1;
      continue;
    }
    const received = epochToMono(s.received);
    const triaged = epochToMono(s.triaged);
    const logged = epochToMono(s.offerLogged);
    const sent = epochToMono(s.offerSent);
    rows.push({
      generator: t.sentAt - t.intended,
      intake: received - t.sentAt,
      triage: triaged - received,
      routing: logged - triaged,
      logAck: sent - logged,
      agent: t.offeredAt - sent,
      total: t.offeredAt - t.intended,
    });
  }
  const hops = HOPS.map(([hop, what]) => ({ hop, what, summary: summarize(rows.map((r) => r[hop])) }));
  const byTotal = [...rows].sort((a, b) => b.total - a.total);
  const slow = byTotal.slice(0, Math.max(1, Math.ceil(rows.length / 100)));
  const mean = (f: (r: (typeof rows)[number]) => number) => (slow.length === 0 ? 0 : slow.reduce((acc, r) => acc + f(r), 0) / slow.length);
  const totalMeanMs = mean((r) => r.total);
  return {
    tickets: rows.length,
    incomplete,
    hops,
    slowest: {
      tickets: rows.length === 0 ? 0 : slow.length,
      totalMeanMs: round(totalMeanMs),
      hops: HOPS.map(([hop]) => {
        const m = mean((r) => r[hop]);
        return { hop, meanMs: round(m), share: totalMeanMs > 0 ? round(m / totalMeanMs, 3) : 0 };
      }),
    },
  };
}

/** The offset from epoch ms to the bench's monotonic ms, taken now (both clocks read back to back). */
export function epochToMonotonic(): (epochMs: number) => number {
  const before = nowMs();
  const epoch = Date.now();
  const after = nowMs();
  const offset = (before + after) / 2 - epoch;
  return (epochMs) => epochMs + offset;
}

/** Reads the four topics up to their current ends and returns each ticket's first record times (epoch ms). */
export async function readStageTimes(brokers: string[], topicPrefix: string, wanted: ReadonlySet<string>): Promise<Map<string, StageTimes>> {
  const kafka = new Kafka({ clientId: "steward-bench-hops", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topics = {
    received: `${topicPrefix}${Topics.received}`,
    triaged: `${topicPrefix}${Topics.triaged}`,
    log: `${topicPrefix}${ROUTING_LOG_TOPIC}`,
    routing: `${topicPrefix}${Topics.routing}`,
  };
  const out = new Map<string, StageTimes>();
  const first = (ticketId: string, field: keyof StageTimes, at: number) => {
    if (!wanted.has(ticketId)) return;
    let s = out.get(ticketId);
    if (!s) out.set(ticketId, (s = {}));
    if (s[field] === undefined || at < s[field]) s[field] = at;
  };
  await admin.connect();
  // What is left to read: partition -> end offset, per topic.
  const remaining = new Map<string, number>();
  for (const topic of Object.values(topics)) {
    for (const p of await admin.fetchTopicOffsets(topic)) if (Number(p.high) > Number(p.low)) remaining.set(`${topic}/${p.partition}`, Number(p.high));
  }
  const groupId = `bench-hops-${Date.now()}`;
  const consumer = kafka.consumer({ groupId, maxBytes: 32 * 1024 * 1024 });
  try {
    if (remaining.size === 0) return out;
    await consumer.connect();
    await consumer.subscribe({ topics: Object.values(topics), fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading the stage timestamps took over 120 s (${remaining.size} partitions left)`)), 120_000);
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const key = `${batch.topic}/${batch.partition}`;
            const end = remaining.get(key);
            for (const m of batch.messages) {
              if (end !== undefined && Number(m.offset) >= end) break;
              const at = Number(m.timestamp);
              if (!m.value) continue;
              if (batch.topic === topics.log) {
                const entry = JSON.parse(m.value.toString("utf8")) as LogEntry;
                if (entry.type === "ticket" && entry.doc.pendingOffers.length > 0) first(entry.doc._id, "offerLogged", at);
                continue;
              }
              const headers: Record<string, string> = {};
              for (const [k, v] of Object.entries(m.headers ?? {})) {
                const one = Array.isArray(v) ? v[0] : v;
                if (one !== undefined) headers[k] = one.toString();
              }
              const env = decodeEnvelope(m.value, headers);
              const p = env.payload;
              if (batch.topic === topics.received && p?.$case === "ticketReceived") first(env.ticketId, "received", at);
              else if (batch.topic === topics.triaged && p?.$case === "ticketTriaged" && !p.value.retriage) first(env.ticketId, "triaged", at);
              else if (batch.topic === topics.routing && p?.$case === "offerMade") first(env.ticketId, "offerSent", at);
            }
            if (end !== undefined && Number(batch.lastOffset()) >= end - 1) remaining.delete(key);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  return out;
}
