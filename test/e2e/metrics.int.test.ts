// Every service's GET /metrics over the real broker and store: a ticket goes intake -> triage -> routing
// -> an agent accepts -> escalation's clock warns; then the named series are scraped and checked for
// sensible values (counts that moved, lag for a consumed topic, route patterns rather than raw URLs).
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, generalistAgent, isolatedEnv, readSse, tokens, waitFor, type SseReader } from "@steward/testkit";
import { loadIntakeConfig } from "../../services/intake/src/config.ts";
import { startIntake, type RunningIntake } from "../../services/intake/src/service.ts";
import { loadTriageConfig } from "../../services/triage/src/config.ts";
import { startTriage, type RunningTriage } from "../../services/triage/src/service.ts";
import { loadRoutingConfig } from "../../services/routing/src/config.ts";
import { startRouting, type RunningRouting } from "../../services/routing/src/service.ts";
import { loadEscalationConfig } from "../../services/escalation/src/config.ts";
import { startEscalation, type RunningEscalation } from "../../services/escalation/src/service.ts";

// Targets of seconds, so a warning and a breach happen while the test waits.
const SECONDS_POLICY = fileURLToPath(new URL("../../services/escalation/policy/sla-policy.test-seconds.json", import.meta.url));
const t = isolatedEnv("metrics", { ESCALATION_POLICY_FILE: SECONDS_POLICY, ESCALATION_TIMER_POLL_MS: "250" });
let intake: RunningIntake;
let triage: RunningTriage;
let routing: RunningRouting;
let escalation: RunningEscalation;
let work: SseReader;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped; label values without escaped quotes). */
function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(baseUrl: string): Promise<{ samples: Sample[]; contentType: string | null }> {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).toBe(200);
  return { samples: parseExposition(await res.text()), contentType: res.headers.get("content-type") };
}

const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
const has = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const json = (method: string, body?: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

beforeAll(async () => {
  [intake, triage, routing, escalation] = await Promise.all([
    startIntake(loadIntakeConfig(t.env)),
    startTriage(loadTriageConfig(t.env)),
    startRouting(loadRoutingConfig(t.env)),
    startEscalation(loadEscalationConfig(t.env)),
  ]);
  expect((await fetch(`${routing.httpUrl}/v1/agents/ana`, json("PUT", generalistAgent("Ana", ["en"]), await bearer(tokens.admin())))).status).toBe(200);
  work = await readSse(`${routing.httpUrl}/v1/agents/ana/work`, await bearer(tokens.agent("ana")));
  expect((await fetch(`${routing.httpUrl}/v1/agents/ana/presence`, json("POST", { status: "available" }, await bearer(tokens.agent("ana"))))).status).toBe(200);
});

afterAll(async () => {
  work?.close();
  await Promise.allSettled([intake?.close(), triage?.close(), routing?.close(), escalation?.close()]);
});

describe("metrics", () => {
  it("counts a ticket's way through every service and serves it at GET /metrics", async () => {
    const res = await fetch(
      `${intake.httpUrl}/v1/tickets`,
      json("POST", { channel: "email", externalId: "m-1", customer: { id: "cust-m" }, subject: "Refund", body: "I was charged twice for order 77, please refund one." }),
    );
    expect(res.status).toBe(202);
    const { ticketId } = (await res.json()) as { ticketId: string };
    const offer = JSON.parse((await work.next((e) => e.event === "offer" && e.data.includes(ticketId), 60_000)).data) as { offerId: string };
    expect((await fetch(`${routing.httpUrl}/v1/offers/${offer.offerId}/accept`, json("POST", {}, await bearer(tokens.agent("ana"))))).status).toBe(200);

    // Intake: requests by route pattern (never the ticket id), records produced, store latency, process metrics.
    const i = await scrape(intake.httpUrl);
    expect(i.contentType).toMatch(/^text\/plain/);
    expect(sum(i.samples, "steward_http_request_duration_seconds_count", { route: "/v1/tickets", method: "POST", status: "202" })).toBeGreaterThanOrEqual(1);
    expect(i.samples.some((s) => Object.values(s.labels).some((v) => v.includes(ticketId)))).toBe(false);
    expect(sum(i.samples, "steward_kafka_produced_total", { topic: "steward.tickets.received" })).toBeGreaterThanOrEqual(1);
    // The publish's wait for its acknowledgement, per topic: observed once per record acknowledged.
    expect(sum(i.samples, "steward_kafka_publish_duration_seconds_count", { topic: "steward.tickets.received" })).toBeGreaterThanOrEqual(1);
    expect(sum(i.samples, "steward_kafka_publish_duration_seconds_sum", { topic: "steward.tickets.received" })).toBeGreaterThan(0);
    expect(sum(i.samples, "steward_store_command_duration_seconds_count", { outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(has(i.samples, "process_cpu_seconds_total", { service: "intake" })).toBe(true);

    // Triage consumed the ticket; its group's lag on that topic is a real series (0 or more, never negative).
    const tr = await scrape(triage.httpUrl);
    expect(sum(tr.samples, "steward_kafka_consumed_total", { topic: "steward.tickets.received", group: "triage" })).toBeGreaterThanOrEqual(1);
    // The hop's latency: each record's age when triage's handler got it (one observation per record
    // consumed, a positive age that is not absurd: the ticket was sent within this test).
    const ageCount = sum(tr.samples, "steward_kafka_record_age_seconds_count", { topic: "steward.tickets.received", group: "triage" });
    const ageSum = sum(tr.samples, "steward_kafka_record_age_seconds_sum", { topic: "steward.tickets.received", group: "triage" });
    expect(ageCount).toBe(sum(tr.samples, "steward_kafka_consumed_total", { topic: "steward.tickets.received", group: "triage" }));
    expect(ageSum).toBeGreaterThan(0);
    expect(ageSum / ageCount).toBeLessThan(120);
    const triageLag = tr.samples.filter((s) => s.name === "steward_kafka_consumer_lag" && s.labels["topic"] === "steward.tickets.received" && s.labels["group"] === "triage");
    expect(triageLag.length).toBeGreaterThanOrEqual(1);
    expect(triageLag.every((s) => s.value >= 0)).toBe(true);

    // Routing: the offer, its acceptance, the decision's latency, the queue gauges, the matcher's lag.
    const r = await scrape(routing.httpUrl);
    expect(sum(r.samples, "steward_routing_offers_total")).toBeGreaterThanOrEqual(1);
    expect(sum(r.samples, "steward_routing_accepts_total")).toBeGreaterThanOrEqual(1);
    expect(has(r.samples, "steward_routing_declines_total")).toBe(true);
    expect(has(r.samples, "steward_routing_offer_timeouts_total")).toBe(true);
    expect(sum(r.samples, "steward_routing_decision_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(has(r.samples, "steward_routing_decision_duration_seconds_bucket", { le: "+Inf" })).toBe(true);
    expect(sum(r.samples, "steward_http_request_duration_seconds_count", { route: "/v1/offers/:offerId/accept", status: "200" })).toBe(1);
    const matcherLag = r.samples.filter(
      (s) => s.name === "steward_kafka_consumer_lag" && s.labels["topic"] === "steward.tickets.triaged" && s.labels["group"]?.endsWith("routing-matcher"),
    );
    expect(matcherLag.length).toBeGreaterThanOrEqual(1);
    // The only routing instance holds the lease: it reports itself as the leader.
    expect(sum(r.samples, "steward_routing_leader")).toBe(1);
    // Accepted: the ticket no longer waits in its group's queue.
    expect(r.samples.filter((s) => s.name === "steward_routing_queue_depth").every((s) => s.value === 0)).toBe(true);

    // Escalation: accepting an e-mail is not its first response and nobody answers, so the clock warns, then breaches.
    const e = await waitFor(
      async () => {
        const s = (await scrape(escalation.httpUrl)).samples;
        return sum(s, "steward_sla_warnings_total") >= 1 && sum(s, "steward_sla_breaches_total") >= 1 ? s : undefined;
      },
      { what: "an SLA warning and a breach counted", timeoutMs: 40_000 },
    );
    expect(sum(e, "steward_escalation_notifications_total")).toBeGreaterThanOrEqual(1);
    expect(sum(e, "steward_kafka_consumed_total", { topic: "steward.tickets.triaged", group: "escalation" })).toBeGreaterThanOrEqual(1);
  });

  it("keeps /metrics out of the OpenAPI document", async () => {
    const doc = (await (await fetch(`${intake.httpUrl}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).not.toContain("/metrics");
  });
});
