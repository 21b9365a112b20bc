// Sample agents and simulated channel traffic for ./steward start (and the demo in the README).
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readSse } from "@steward/testkit";

const root = fileURLToPath(new URL("../", import.meta.url));

interface SampleAgent {
  id: string;
  name: string;
  groups: string[];
  skills: Record<string, number>;
  languages: string[];
  capacity: Record<string, number>;
}

/** Groups and skills follow services/triage/policy/triage-policy.json. */
export function sampleAgents(): SampleAgent[] {
  const policy = JSON.parse(readFileSync(`${root}services/triage/policy/triage-policy.json`, "utf8")) as {
    intents?: Record<string, { group?: string; skill?: string }>;
    routes?: Record<string, { group?: string; skill?: string }>;
  };
  const routes = Object.values(policy.intents ?? policy.routes ?? {});
  const groups = [...new Set(routes.map((r) => r.group).filter((g): g is string => Boolean(g)))];
  const skills = Object.fromEntries([...new Set(routes.map((r) => r.skill).filter((s): s is string => Boolean(s)))].map((s) => [s, 7]));
  const all = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "hu", "cs", "ro", "sv", "tr", "ru", "uk", "ar", "he", "fa", "zh", "ja", "ko", "hi"];
  const langSkills = (langs: string[]) => Object.fromEntries(langs.map((l) => [`lang:${l}`, 8]));
  const mk = (id: string, name: string, languages: string[]): SampleAgent => ({
    id,
    name,
    groups: groups.length > 0 ? groups : ["general"],
    skills: { ...skills, ...langSkills(languages) },
    languages,
    capacity: { email: 5, chat: 3, phone: 1, social: 3, web: 5, api: 5 },
  });
  return [
    mk("ada", "Ada (EN/DE)", ["en", "de", "nl", "sv"]),
    mk("bruno", "Bruno (ES/PT/IT)", ["es", "pt", "it", "en", "ro"]),
    mk("chloe", "Chloé (FR/EN)", ["fr", "en", "pl", "cs", "hu"]),
    mk("dmitro", "Dmytro (UK/RU/TR)", ["uk", "ru", "tr", "en"]),
    mk("noor", "Noor (AR/FA/HE)", ["ar", "fa", "he", "en"]),
    mk("mei", "Mei (ZH/JA/KO/HI)", ["zh", "ja", "ko", "hi", "en"]),
    mk("max", "Max (all languages, overflow)", all),
  ];
}

export async function runSampleAgents(opts: { gateway: string; log: (m: string) => void; thinkMs?: number; resolveAfterMs?: number }) {
  let accepted = 0;
  let resolved = 0;
  const readers: Array<{ close(): void }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const agents = sampleAgents();
  for (const a of agents) {
    const { id, ...profile } = a;
    const put = await fetch(`${opts.gateway}/v1/agents/${id}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(profile) });
    if (!put.ok) throw new Error(`agent ${id}: ${put.status} ${await put.text()}`);
    const sse = await readSse(`${opts.gateway}/v1/agents/${id}/work`);
    readers.push(sse);
    await fetch(`${opts.gateway}/v1/agents/${id}/presence`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ status: "available" }) });
    const loop = async () => {
      for (;;) {
        const e = await sse.next((ev) => ev.event === "offer", 24 * 3_600_000).catch(() => undefined);
        if (!e) return;
        const offer = JSON.parse(e.data) as { offerId: string; ticketId: string };
        const t = setTimeout(async () => {
          timers.delete(t);
          const res = await fetch(`${opts.gateway}/v1/offers/${offer.offerId}/accept`, { method: "POST", headers: { "x-agent-id": id } }).catch(() => undefined);
          if (!res?.ok) return;
          accepted += 1;
          opts.log(`agent ${id} accepted ticket ${offer.ticketId}`);
          const r = setTimeout(async () => {
            timers.delete(r);
            const done = await fetch(`${opts.gateway}/v1/tickets/${offer.ticketId}/resolve`, { method: "POST", headers: { "x-agent-id": id } }).catch(() => undefined);
            if (done?.ok) resolved += 1;
          }, opts.resolveAfterMs ?? 20_000);
          timers.add(r);
        }, opts.thinkMs ?? 500);
        timers.add(t);
      }
    };
    void loop();
  }
  return {
    ids: agents.map((a) => a.id),
    accepted: () => accepted,
    resolved: () => resolved,
    stop() {
      for (const r of readers) r.close();
      for (const t of timers) clearTimeout(t);
    },
  };
}

interface SampleMessage {
  language: string;
  subject: string;
  body: string;
}

const CHANNELS = ["email", "chat", "phone", "social", "web", "api"] as const;

export function runSimulatedTraffic(opts: { intake: string; ratePerSecond: number; log: (m: string) => void }) {
  const file = `${root}services/triage/data/messages.jsonl`;
  const samples: SampleMessage[] = existsSync(file)
    ? readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as SampleMessage)
    : [{ language: "en", subject: "Cannot log in", body: "Hi, I cannot log in to my account since this morning. Please help!" }];
  let sent = 0;
  let n = 0;
  const timer = setInterval(async () => {
    const m = samples[n % samples.length] as SampleMessage;
    const channel = CHANNELS[n % CHANNELS.length] as string;
    n += 1;
    const body = {
      channel,
      externalId: `sim-${process.pid}-${n}`,
      customer: { id: `customer-${n % 40}`, name: `Customer ${n % 40}`, tier: n % 10 === 0 ? "vip" : "standard" },
      subject: m.subject || undefined,
      body: m.body,
    };
    const res = await fetch(`${opts.intake}/v1/tickets`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).catch(() => undefined);
    if (res?.status === 202) {
      sent += 1;
      const { ticketId } = (await res.json()) as { ticketId: string };
      opts.log(`${channel} ticket ${ticketId} (${m.language})`);
    } else {
      opts.log(`intake answered ${res?.status ?? "nothing"}`);
    }
  }, Math.max(50, 1000 / opts.ratePerSecond));
  return {
    sent: () => sent,
    stop: () => clearInterval(timer),
  };
}
