// What each service's GET /metrics says about a measured step, taken at the same marks as the CPU
// snapshots: Kafka requests per service (steward_kafka_requests_total: a fetch, an offset commit and a
// heartbeat cost the broker one request each, however many records they carry), and where an event's
// time goes (the histograms' sums and counts: a record's age when its handler got it, per topic; a
// publish's wait for its acknowledgement, per topic; store commands, per command and collection), and the
// documents and statements those store commands carried (steward_store_statements_total: FerretDB's work
// grows with them, not with the commands). Counters from the services themselves, so a busy machine
// skews the times but not the counts.

export interface KafkaRequestStats {
  service: string;
  client: string;
  api: string;
  count: number;
}

export interface StoreStatementStats {
  service: string;
  command: string;
  collection: string;
  /** Documents inserted, update or delete statements, or commands of any other kind. */
  count: number;
}

/** One histogram series over a step: how many observations, their mean, and the bucket the 99th percentile falls in. */
export interface TimingStats {
  service: string;
  /** "record age", "publish", "store" or "gc". */
  stage: string;
  /** The topic, or the store command and its collection. */
  what: string;
  count: number;
  meanMs: number;
  /** Upper bound of the bucket holding the 99th percentile (Infinity past the last bucket). */
  p99AtMostMs: number;
  /** Upper bound of the bucket holding the largest observation (Infinity past the last bucket). */
  maxAtMostMs: number;
}

interface Histo {
  sum: number;
  count: number;
  /** le -> cumulative count */
  buckets: Map<number, number>;
}

export interface MetricsSnapshot {
  requests: Map<string, number>; // "service\0client\0api" -> counter value
  timings: Map<string, Histo>; // "service\0stage\0what" -> histogram
  statements: Map<string, number>; // "service\0command\0collection" -> counter value
}

const SERIES = /^(\w+)\{([^}]*)\}\s+([0-9.eE+-]+|[+-]Inf|NaN)$/;

const STAGES: Record<string, { stage: string; label: string }> = {
  steward_kafka_record_age_seconds: { stage: "record age", label: "topic" },
  steward_kafka_publish_duration_seconds: { stage: "publish", label: "topic" },
  steward_store_command_duration_seconds: { stage: "store", label: "command" },
  // prom-client's default series: each garbage collection's pause, by kind (minor, major, incremental).
  nodejs_gc_duration_seconds: { stage: "gc", label: "kind" },
};

/** Every service's series, by service name; a service that does not answer is left out. */
export async function snapshotServiceMetrics(services: Array<{ name: string; url: string }>): Promise<MetricsSnapshot> {
  const out: MetricsSnapshot = { requests: new Map(), timings: new Map(), statements: new Map() };
  await Promise.all(
    services.map(async ({ name, url }) => {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
      if (!res?.ok) return;
      for (const line of (await res.text()).split("\n")) {
        const m = SERIES.exec(line);
        if (!m) continue;
        const [, series = "", rawLabels = "", rawValue = ""] = m;
        const labels = Object.fromEntries([...rawLabels.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        const value = Number(rawValue);
        if (series === "steward_kafka_requests_total") {
          out.requests.set(`${name}\u0000${labels["client"] ?? "?"}\u0000${labels["api"] ?? "?"}`, value);
          continue;
        }
        if (series === "steward_store_statements_total") {
          out.statements.set(`${name}\u0000${labels["command"] ?? "?"}\u0000${labels["collection"] ?? "-"}`, value);
          continue;
        }
        const base = series.replace(/_(bucket|sum|count)$/, "");
        const kind = STAGES[base];
        if (!kind) continue;
        // Store commands that failed are left out: a refused duplicate is part of the design, not time spent.
        if (base === "steward_store_command_duration_seconds" && labels["outcome"] !== "ok") continue;
        // A store command is told apart by its collection too (a ping or a hello has none).
        const collection = kind.stage === "store" && labels["collection"] && labels["collection"] !== "-" ? ` ${labels["collection"]}` : "";
        const key = `${name}\u0000${kind.stage}\u0000${labels[kind.label] ?? "?"}${collection}`;
        const h = out.timings.get(key) ?? { sum: 0, count: 0, buckets: new Map<number, number>() };
        out.timings.set(key, h);
        // Series of several groups (or several consumers) of one topic are added together.
        if (series.endsWith("_sum")) h.sum += value;
        else if (series.endsWith("_count")) h.count += value;
        else if (series.endsWith("_bucket")) {
          const le = labels["le"] === "+Inf" ? Infinity : Number(labels["le"]);
          h.buckets.set(le, (h.buckets.get(le) ?? 0) + value);
        }
      }
    }),
  );
  return out;
}

/** How much each counter grew between two snapshots (its key split on NUL), most first; counters that did not grow are left out. */
function grownBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Array<{ parts: string[]; count: number }> {
  const out: Array<{ parts: string[]; count: number }> = [];
  for (const [key, value] of after) {
    const count = value - (before.get(key) ?? 0);
    if (count > 0) out.push({ parts: key.split("\u0000"), count });
  }
  return out.sort((a, b) => b.count - a.count);
}

/** What each service sent between two snapshots, most first. */
export function kafkaRequestsBetween(before: MetricsSnapshot, after: MetricsSnapshot): KafkaRequestStats[] {
  return grownBetween(before.requests, after.requests).map(({ parts: [service = "?", client = "?", api = "?"], count }) => ({ service, client, api, count }));
}

/** The store statements each service sent between two snapshots, most first. */
export function storeStatementsBetween(before: MetricsSnapshot, after: MetricsSnapshot): StoreStatementStats[] {
  return grownBetween(before.statements, after.statements).map(({ parts: [service = "?", command = "?", collection = "-"], count }) => ({ service, command, collection, count }));
}

/** Each histogram's observations between two snapshots, by total time, most first. */
export function timingsBetween(before: MetricsSnapshot, after: MetricsSnapshot): TimingStats[] {
  const out: TimingStats[] = [];
  for (const [key, h] of after.timings) {
    const b = before.timings.get(key);
    const count = h.count - (b?.count ?? 0);
    if (count <= 0) continue;
    const sum = h.sum - (b?.sum ?? 0);
    let p99AtMostMs = Infinity;
    let maxAtMostMs = Infinity;
    for (const le of [...h.buckets.keys()].sort((x, y) => x - y)) {
      const n = (h.buckets.get(le) ?? 0) - (b?.buckets.get(le) ?? 0);
      if (n >= 0.99 * count && p99AtMostMs === Infinity) p99AtMostMs = le * 1000;
      if (n >= count) {
        maxAtMostMs = le * 1000;
        break;
      }
    }
    const [service, stage, what] = key.split("\u0000") as [string, string, string];
    out.push({ service, stage, what, count, meanMs: (sum / count) * 1000, p99AtMostMs, maxAtMostMs });
  }
  return out.sort((a, b) => b.meanMs * b.count - a.meanMs * a.count);
}
