// The sample channel integrations' side of outbound delivery for ./steward start: a local HTTP server that
// checks each push's signature with the same verifier intake uses for inbound webhooks, de-duplicates by
// X-Steward-Delivery (delivery is at least once), and prints what each integration would deliver to its
// customers. Also writes the integrations file that points intake's outbound worker at it.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { DEV_API_KEY, DEV_INTEGRATION_ID, DEV_WEBHOOK_SECRET, hashApiKey } from "../services/intake/src/domain/integrations.ts";
import { verifyWebhookSignature } from "../services/intake/src/domain/webhook-signature.ts";

/** A sample integration: its API key (for submitting) and the secret its pushes are signed with. */
export interface SampleIntegration {
  id: string;
  apiKey: string;
  outboundSecret: string;
}

/** `dev` keeps the documented key; mail and chat show pushes going to different integrations. */
export const SAMPLE_INTEGRATIONS: readonly SampleIntegration[] = [
  { id: DEV_INTEGRATION_ID, apiKey: DEV_API_KEY, outboundSecret: "steward-dev-outbound-secret" },
  { id: "sample-mail", apiKey: "steward-dev-mail-key", outboundSecret: "steward-dev-mail-outbound-secret" },
  { id: "sample-chat", apiKey: "steward-dev-chat-key", outboundSecret: "steward-dev-chat-outbound-secret" },
];

export interface SampleReceiver {
  url: string;
  /** Pushes accepted (first of their delivery id, valid signature), per integration. */
  counts(): Record<string, number>;
  /** Pushes refused for a bad signature, and re-deliveries of an id already accepted. */
  refused(): number;
  duplicates(): number;
  close(): Promise<void>;
}

interface Pushed {
  kind: string;
  channel: string;
  recipient: string;
  text: string;
  reference: string;
  ticketId: string;
}

export async function startSampleReceiver(log: (m: string) => void): Promise<SampleReceiver> {
  const secrets = new Map(SAMPLE_INTEGRATIONS.map((i) => [i.id, i.outboundSecret]));
  const seen = new Set<string>();
  const counts: Record<string, number> = {};
  let refused = 0;
  let duplicates = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const integration = String(req.headers["x-steward-integration"] ?? "");
      const deliveryId = typeof req.headers["x-steward-delivery"] === "string" ? req.headers["x-steward-delivery"] : undefined;
      const secret = secrets.get(integration);
      const check =
        secret === undefined
          ? undefined
          : verifyWebhookSignature(
              {
                timestamp: req.headers["x-steward-timestamp"] as string | undefined,
                signature: req.headers["x-steward-signature"] as string | undefined,
                deliveryId,
                rawBody: raw,
              },
              [secret],
              Date.now(),
            );
      if (!check?.ok || deliveryId === undefined) {
        refused += 1;
        log(`receiver: refused a push for "${integration}" (${check && !check.ok ? check.code : "unknown integration or no delivery id"})`);
        res.writeHead(401).end();
        return;
      }
      if (seen.has(deliveryId)) {
        duplicates += 1;
        res.writeHead(200).end();
        return;
      }
      seen.add(deliveryId);
      counts[integration] = (counts[integration] ?? 0) + 1;
      const m = JSON.parse(raw.toString("utf8")) as Pushed;
      const text = m.text.length > 70 ? `${m.text.slice(0, 67)}...` : m.text;
      log(`receiver: ${integration} would deliver ${/^[aeiou]/i.test(m.kind) ? "an" : "a"} ${m.kind} on ${m.channel} to ${m.recipient} (${m.reference}): ${JSON.stringify(text)}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ ...counts }),
    refused: () => refused,
    duplicates: () => duplicates,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Writes the integrations file intake reads (INTAKE_INTEGRATIONS_FILE): each sample integration pushes to the receiver. */
export async function writeSampleIntegrations(file: string, receiverUrl: string): Promise<void> {
  const integrations = SAMPLE_INTEGRATIONS.map((i) => ({
    id: i.id,
    apiKeySha256: [hashApiKey(i.apiKey)],
    ...(i.id === DEV_INTEGRATION_ID ? { webhookSecrets: [DEV_WEBHOOK_SECRET], rateLimit: { perSecond: 5_000, burst: 10_000 } } : {}),
    outboundUrl: `${receiverUrl}/steward/${i.id}`,
    outboundSecret: i.outboundSecret,
  }));
  await writeFile(file, `${JSON.stringify({ integrations }, null, 2)}\n`, { mode: 0o600 });
}
