// Sample agents and simulated channel traffic for ./steward start (and the demo in the README). The agents
// accept offers, answer the customer in public, then resolve; the traffic comes in through several
// sample integrations (their API keys), whose outbound pushes the sample receiver prints.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CHANNELS } from "@steward/proto/vocabulary";
import { generalistAgent, readSse, type AgentProfileInput } from "@steward/testkit";

const root = fileURLToPath(new URL("../", import.meta.url));

const ALL_LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "hu", "cs", "ro", "sv", "tr", "ru", "uk", "ar", "he", "fa", "zh", "ja", "ko", "hi"];

/** A small team: each covers a few languages; Max speaks them all and catches the rest. */
export function sampleAgents(): Array<{ id: string } & AgentProfileInput> {
  return [
    { id: "ada", ...generalistAgent("Ada (EN/DE/NL/SV)", ["en", "de", "nl", "sv"]) },
    { id: "bruno", ...generalistAgent("Bruno (ES/PT/IT/RO)", ["es", "pt", "it", "en", "ro"]) },
    { id: "chloe", ...generalistAgent("Chloé (FR/PL/CS/HU)", ["fr", "en", "pl", "cs", "hu"]) },
    { id: "dmytro", ...generalistAgent("Dmytro (UK/RU/TR)", ["uk", "ru", "tr", "en"]) },
    { id: "noor", ...generalistAgent("Noor (AR/FA/HE)", ["ar", "fa", "he", "en"]) },
    { id: "mei", ...generalistAgent("Mei (ZH/JA/KO/HI)", ["zh", "ja", "ko", "hi", "en"]) },
    { id: "max", ...generalistAgent("Max (every language)", ALL_LANGUAGES) },
  ];
}

/** Tokens the sample desk acts with: an admin's to create the profiles, each agent's own for its work. */
export interface DeskTokens {
  admin: string;
  agent(id: string): Promise<string>;
}

export async function runSampleAgents(opts: { gateway: string; tokens: DeskTokens; log: (m: string) => void; thinkMs?: number; resolveAfterMs?: number }) {
  let accepted = 0;
  let replied = 0;
  let resolved = 0;
  const readers: Array<{ close(): void }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const agents = sampleAgents();
  for (const a of agents) {
    const { id, ...profile } = a;
    const put = await fetch(`${opts.gateway}/v1/agents/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${opts.tokens.admin}` },
      body: JSON.stringify(profile),
    });
    if (!put.ok) throw new Error(`agent ${id}: ${put.status} ${await put.text()}`);
    const auth = { authorization: `Bearer ${await opts.tokens.agent(id)}` };
    const sse = await readSse(`${opts.gateway}/v1/agents/${id}/work`, auth);
    readers.push(sse);
    await fetch(`${opts.gateway}/v1/agents/${id}/presence`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify({ status: "available" }),
    });
    const loop = async () => {
      for (;;) {
        const e = await sse.next((ev) => ev.event === "offer", 24 * 3_600_000).catch(() => undefined);
        if (!e) return;
        const offer = JSON.parse(e.data) as { offerId: string; ticketId: string };
        const t = setTimeout(async () => {
          timers.delete(t);
          const res = await fetch(`${opts.gateway}/v1/offers/${offer.offerId}/accept`, { method: "POST", headers: auth }).catch(() => undefined);
          if (!res?.ok) return;
          accepted += 1;
          opts.log(`agent ${id} accepted ticket ${offer.ticketId}`);
          // A public answer before resolving: it stops the response clocks and goes out to the customer.
          // The clientMessageId makes a retried POST the same reply.
          const answer = await fetch(`${opts.gateway}/v1/tickets/${offer.ticketId}/replies`, {
            method: "POST",
            headers: { "content-type": "application/json", ...auth },
            body: JSON.stringify({
              body: `Hello, this is ${profile.name.split(" ")[0] ?? id}. I have your ticket and I am looking into it now.`,
              visibility: "public",
              clientMessageId: `sample-${offer.ticketId}`,
            }),
          }).catch(() => undefined);
          if (answer?.status === 201) replied += 1;
          else opts.log(`agent ${id} could not reply on ticket ${offer.ticketId}: ${answer?.status ?? "no answer"}`);
          const r = setTimeout(async () => {
            timers.delete(r);
            const done = await fetch(`${opts.gateway}/v1/tickets/${offer.ticketId}/resolve`, { method: "POST", headers: auth }).catch(() => undefined);
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
    /** Every group the sample agents work in: the demo supervisor oversees them all. */
    groups: [...new Set(agents.flatMap((a) => a.groups))].sort(),
    accepted: () => accepted,
    replied: () => replied,
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

/**
 * Simulated tickets at `ratePerSecond`, each sent with the API key `apiKeyFor` gives its channel (none:
 * anonymous, for intake's development mode).
 */
export function runSimulatedTraffic(opts: { intake: string; ratePerSecond: number; log: (m: string) => void; apiKeyFor?: (channel: string) => string | undefined }) {
  // No traffic at all for rate 0: 1000 / 0 is Infinity, which setInterval treats as 1 ms.
  if (!(opts.ratePerSecond > 0)) return { sent: () => 0, stop: () => {} };
  const file = `${root}services/triage/data/messages.jsonl`;
  const samples: SampleMessage[] = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SampleMessage)
    : [{ language: "en", subject: "Cannot log in", body: "Hi, I cannot log in to my account since this morning. Please help!" }];
  let sent = 0;
  let n = 0;
  const timer = setInterval(
    async () => {
      // Stride through the samples so consecutive tickets come in different languages.
      const m = samples[(n * 37) % samples.length] as SampleMessage;
      const channel = CHANNELS[n % CHANNELS.length] as string;
      n += 1;
      const body = {
        channel,
        externalId: `sim-${process.pid}-${n}`,
        customer: { id: `customer-${n % 40}`, name: `Customer ${n % 40}`, email: `customer-${n % 40}@example.com`, tier: n % 10 === 0 ? "vip" : "standard" },
        subject: m.subject || undefined,
        body: m.body,
      };
      const key = opts.apiKeyFor?.(channel);
      const res = await fetch(`${opts.intake}/v1/tickets`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(body),
      }).catch(() => undefined);
      if (res?.status === 202) {
        sent += 1;
        const { ticketId } = (await res.json()) as { ticketId: string };
        opts.log(`${channel} ticket ${ticketId} (${m.language})`);
      } else {
        opts.log(`intake answered ${res?.status ?? "nothing"}`);
      }
    },
    Math.max(50, 1000 / opts.ratePerSecond),
  );
  return {
    sent: () => sent,
    stop: () => clearInterval(timer),
  };
}
