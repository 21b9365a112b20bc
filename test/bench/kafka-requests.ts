// Kafka requests per service during a measured step, read from each service's GET /metrics
// (steward_kafka_requests_total, counted by the kafkajs client). Requests rather than records are what a
// broker and a client's CPU pay for: a fetch, an offset commit and a heartbeat cost one each, however many
// records they carry. Taken at the same marks as the CPU snapshots.

export interface KafkaRequestStats {
  service: string;
  client: string;
  api: string;
  count: number;
}

type Snapshot = Map<string, number>; // "service\0client\0api" -> counter value

const SERIES = /^steward_kafka_requests_total\{([^}]*)\}\s+([0-9.eE+]+)$/;

/** The counters of every service, by service name; a service that does not answer is left out. */
export async function snapshotKafkaRequests(services: Array<{ name: string; url: string }>): Promise<Snapshot> {
  const out: Snapshot = new Map();
  await Promise.all(
    services.map(async ({ name, url }) => {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3_000) }).catch(() => undefined);
      if (!res?.ok) return;
      for (const line of (await res.text()).split("\n")) {
        const m = SERIES.exec(line);
        if (!m) continue;
        const labels = Object.fromEntries([...(m[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        out.set(`${name}\u0000${labels["client"] ?? "?"}\u0000${labels["api"] ?? "?"}`, Number(m[2]));
      }
    }),
  );
  return out;
}

/** What each service sent between two snapshots, most first. */
export function kafkaRequestsBetween(before: Snapshot, after: Snapshot): KafkaRequestStats[] {
  const out: KafkaRequestStats[] = [];
  for (const [key, value] of after) {
    const count = value - (before.get(key) ?? 0);
    if (count <= 0) continue;
    const [service, client, api] = key.split("\u0000") as [string, string, string];
    out.push({ service, client, api, count });
  }
  return out.sort((a, b) => b.count - a.count);
}
