// Exactly once at the receiver across a crash: intake runs as a child process; an agent's public reply is
// pushed to a local webhook receiver, which holds the request while intake is killed with SIGKILL. Intake
// is started again as it was; the worker sends the reply again with the same delivery id and a valid
// signature, so the receiver (which de-duplicates by X-Steward-Delivery, as the README asks) accepts it
// exactly once, and the ticket shows it delivered. The next reply is delivered once, after it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaJsBus, newEnvelope, type EventBus } from "@steward/messaging";
import { Channel, Topics } from "@steward/proto";
import { isolatedEnv, waitFor } from "@steward/testkit";
import { startServiceProcess, type ServiceProcess } from "../bench/service-process.ts";
import { hashApiKey } from "../../services/intake/src/domain/integrations.ts";
import { verifyWebhookSignature } from "../../services/intake/src/domain/webhook-signature.ts";

const KEY = "helpdesk-key-0123456789abcdef";
const SECRET = "helpdesk-outbound-secret-0123";

/** One request as the receiver saw it. */
interface Seen {
  deliveryId: string;
  attempt: string;
  signatureOk: boolean;
  messageId: string;
  /** True when this request was the first with its delivery id (the receiver processed it). */
  accepted: boolean;
}
const seen: Seen[] = [];
const processed = new Set<string>();
/** The first request for this message id is held (no answer) until the test lets go of it. */
let holdMessageId = "";
let held: { res: ServerResponse; seen: Seen } | undefined;

let server: Server;
let intake: ServiceProcess;
let bus: EventBus;
const t = isolatedEnv("outbound-crash");

function receive(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    const deliveryId = String(req.headers["x-steward-delivery"]);
    const check = verifyWebhookSignature(
      { timestamp: req.headers["x-steward-timestamp"] as string, signature: req.headers["x-steward-signature"] as string, deliveryId, rawBody: raw },
      [SECRET],
      Date.now(),
    );
    const body = JSON.parse(raw.toString()) as { messageId: string | null };
    // A receiver de-duplicates by delivery id: a re-delivery is answered 2xx and not processed again.
    const accepted = check.ok && !processed.has(deliveryId);
    if (accepted) processed.add(deliveryId);
    const s: Seen = { deliveryId, attempt: String(req.headers["x-steward-attempt"]), signatureOk: check.ok, messageId: body.messageId ?? "", accepted };
    seen.push(s);
    if (!check.ok) {
      res.writeHead(401).end();
      return;
    }
    if (body.messageId === holdMessageId && held === undefined) {
      held = { res, seen: s };
      return;
    }
    res.writeHead(200).end();
  });
}

beforeAll(async () => {
  server = createServer(receive);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/steward`;
  intake = await startServiceProcess({
    name: "intake-crash",
    service: "intake",
    logDir: await mkdtemp(join(tmpdir(), "steward-outbound-crash-")),
    env: {
      ...t.env,
      INTAKE_DEV_MODE: "false",
      INTAKE_ALLOW_ANONYMOUS_DEV: "false",
      INTAKE_INTEGRATIONS_JSON: JSON.stringify({ integrations: [{ id: "helpdesk", apiKeySha256: [hashApiKey(KEY)], outboundUrl: url, outboundSecret: SECRET }] }),
      INTAKE_OUTBOUND_RETRY_BASE_MS: "200",
      INTAKE_OUTBOUND_RETRY_MAX_MS: "1000",
    },
  });
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "outbound-crash-test", topicPrefix: t.topicPrefix });
  await bus.ensureTopics();
}, 180_000);

afterAll(async () => {
  held?.res.destroy();
  await intake?.kill("SIGTERM");
  await bus?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** What routing publishes when the ticket's owner answers in public. */
async function reply(ticketId: string, messageId: string, body: string): Promise<void> {
  await bus.publish({
    topic: Topics.routing,
    envelope: newEnvelope("agentReplied", ticketId, { messageId, agentId: "ana", body, visibility: "public", channel: Channel.EMAIL, inReplyToMessageId: "" }, "routing", {
      eventId: `reply/${messageId}`,
    }),
  });
}

interface View {
  messages: Array<{ id: string; delivery?: { status: string; attempt: number } | null }>;
}
const view = async (ticketId: string) => (await (await fetch(`${intake.url}/v1/tickets/${ticketId}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as View;
const deliveredOf = (v: View, messageId: string) => v.messages.find((m) => m.id === messageId)?.delivery?.status === "delivered";

describe("outbound delivery across a kill -9", () => {
  it("delivers a reply exactly once to a de-duplicating receiver when the worker is killed mid-request", async () => {
    const res = await fetch(`${intake.url}/v1/tickets`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ channel: "email", externalId: "crash-1", customer: { id: "kim", email: "kim@example.com" }, subject: "Refund", body: "Where is my refund?" }),
    });
    expect(res.status).toBe(202);
    const { ticketId } = (await res.json()) as { ticketId: string };

    holdMessageId = "crash-r1";
    await reply(ticketId, "crash-r1", "Your refund is on its way.");
    const first = await waitFor(() => held, { what: "the receiver holding the first attempt", timeoutMs: 60_000 });
    expect(first.seen).toMatchObject({ attempt: "1", signatureOk: true, accepted: true });

    // Mid-flight: the receiver has the message and has not answered; the worker dies without a word.
    await intake.kill("SIGKILL");
    first.res.destroy();
    await intake.restart();
    await reply(ticketId, "crash-r2", "Anything else I can do?");

    await waitFor(
      async () => {
        const v = await view(ticketId);
        return deliveredOf(v, "crash-r1") && deliveredOf(v, "crash-r2") ? true : undefined;
      },
      { what: "both replies shown delivered", timeoutMs: 90_000 },
    );

    const r1 = seen.filter((s) => s.messageId === "crash-r1");
    expect(r1.length).toBeGreaterThanOrEqual(2);
    expect(new Set(r1.map((s) => s.deliveryId)).size).toBe(1);
    expect(r1.every((s) => s.signatureOk)).toBe(true);
    expect(r1.filter((s) => s.accepted)).toHaveLength(1);
    expect(r1.map((s) => s.attempt).slice(0, 2)).toEqual(["1", "2"]);
    const r2 = seen.filter((s) => s.messageId === "crash-r2");
    expect(r2.filter((s) => s.accepted)).toHaveLength(1);
    expect(r2.every((s) => s.deliveryId !== r1[0]?.deliveryId)).toBe(true);
    // Order per ticket: the second reply reached the receiver only after the first was re-sent.
    expect(seen.indexOf(r2[0] as Seen)).toBeGreaterThan(seen.indexOf(r1[1] as Seen));
  }, 240_000);
});
