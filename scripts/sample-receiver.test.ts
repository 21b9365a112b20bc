// The sample receiver ./steward start prints outbound pushes with: it takes what intake's worker signs,
// refuses a wrong signature, answers a re-delivery without counting it twice, and the integrations file it
// writes is one intake's parser accepts, pointing each integration at the receiver.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboundBody, signedHeaders } from "../services/intake/src/domain/outbound-delivery.ts";
import { parseIntegrations } from "../services/intake/src/domain/integrations.ts";
import { SAMPLE_INTEGRATIONS, startSampleReceiver, writeSampleIntegrations, type SampleReceiver } from "./sample-receiver.ts";

const lines: string[] = [];
let receiver: SampleReceiver;

beforeAll(async () => {
  receiver = await startSampleReceiver((m) => lines.push(m));
});
afterAll(() => receiver.close());

const message = {
  deliveryId: "d-1",
  ticketId: "t-1",
  kind: "reply",
  channel: "email" as const,
  recipient: "kim@example.com",
  language: "en",
  text: "Your refund is on its way.",
  reference: "ST-0000-0000",
  messageId: "m-1",
  inReplyTo: null,
  occurredAt: new Date(0).toISOString(),
};

async function push(integration: string, secret: string, deliveryId = message.deliveryId): Promise<number> {
  const body = outboundBody({ ...message, deliveryId });
  const res = await fetch(`${receiver.url}/steward/${integration}`, { method: "POST", headers: signedHeaders(secret, integration, deliveryId, body, Date.now(), 1), body });
  return res.status;
}

describe("sample receiver", () => {
  it("prints a signed push once, answers its re-delivery, and refuses a wrong signature", async () => {
    const mail = SAMPLE_INTEGRATIONS.find((i) => i.id === "sample-mail");
    expect(mail).toBeDefined();
    expect(await push("sample-mail", mail?.outboundSecret ?? "")).toBe(204);
    expect(await push("sample-mail", mail?.outboundSecret ?? "")).toBe(200);
    expect(await push("sample-mail", "not-the-secret-at-all", "d-2")).toBe(401);
    expect(receiver.counts()).toEqual({ "sample-mail": 1 });
    expect([receiver.duplicates(), receiver.refused()]).toEqual([1, 1]);
    expect(lines.filter((l) => l.includes("would deliver"))).toEqual([
      'receiver: sample-mail would deliver a reply on email to kim@example.com (ST-0000-0000): "Your refund is on its way."',
    ]);
  });

  it("writes an integrations file intake accepts, each integration pushing to the receiver", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "steward-sample-")), "integrations.json");
    await writeSampleIntegrations(file, receiver.url);
    const parsed = parseIntegrations(await readFile(file, "utf8"), { perSecond: 1, burst: 1 });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.integrations.map((i) => [i.id, i.outbound?.url])).toEqual(SAMPLE_INTEGRATIONS.map((i) => [i.id, `${receiver.url}/steward/${i.id}`]));
  });
});
