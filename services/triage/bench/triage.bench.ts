// Per-ticket CPU time of triageTicket over the labelled dataset (both splits), measured with
// process.cpuUsage around each call after a warm-up pass. Target: median under 2 ms.
//   node services/triage/bench/triage.bench.ts [rounds]

import { eldLanguageScorer } from "../src/domain/eld-language-scorer.ts";
import { createTriageEngine, triageTicket, type TicketForTriage } from "../src/domain/triage-engine.ts";
import { readDataset } from "../src/eval/dataset.ts";
import { readIntentModelFile, readTriagePolicyFile } from "../src/policy/triage-files.ts";

const rounds = Number(process.argv[2] ?? 5);
const engine = createTriageEngine({
  policy: readTriagePolicyFile(),
  model: readIntentModelFile(),
  languageScorer: eldLanguageScorer,
});
const channels = ["email", "chat", "phone", "web"] as const;
const tickets: TicketForTriage[] = readDataset().map((message, index) => ({
  subject: message.subject,
  body: message.body,
  channel: channels[index % channels.length] ?? "email",
  customer: { tier: index % 10 === 0 ? "vip" : "standard" },
  recentContactsByIntent: { [message.intent]: index % 3 },
}));

for (const ticket of tickets) triageTicket(engine, ticket); // warm-up: JIT and lazy initialisation

const samplesMicros: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (const ticket of tickets) {
    const before = process.cpuUsage();
    triageTicket(engine, ticket);
    const spent = process.cpuUsage(before);
    samplesMicros.push(spent.user + spent.system);
  }
}
samplesMicros.sort((a, b) => a - b);
const quantile = (q: number): number => samplesMicros[Math.min(samplesMicros.length - 1, Math.floor(q * samplesMicros.length))] ?? 0;
const mean = samplesMicros.reduce((sum, value) => sum + value, 0) / samplesMicros.length;
const milliseconds = (micros: number): string => `${(micros / 1000).toFixed(3)} ms`;
console.log(`triage CPU time per ticket over ${tickets.length} tickets × ${rounds} rounds (${samplesMicros.length} samples)`);
console.log(
  `median ${milliseconds(quantile(0.5))}  p90 ${milliseconds(quantile(0.9))}  p99 ${milliseconds(quantile(0.99))}  mean ${milliseconds(mean)}  max ${milliseconds(samplesMicros.at(-1) ?? 0)}`,
);
console.log(quantile(0.5) < 2000 ? "target met: median < 2 ms" : "TARGET MISSED: median ≥ 2 ms");
