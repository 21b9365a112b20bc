// The gRPC AgentDesk over the real broker and store: live offers on StreamWork, Accept, owner-only
// Resolve with a stable error code, and a reconnecting agent getting its owned work again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metadata, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { AgentDeskClient, Channel, Priority, Topics, type StreamWorkResponse } from "@steward/proto";
import { createKafkaJsBus, newEnvelope, type EventBus } from "@steward/messaging";
import { checkHealth, listServicesByReflection } from "@steward/proto/grpc-standard";
import { bearer, generalistAgent, isolatedEnv, tokens, waitFor } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { startRouting, type RunningRouting } from "./service.ts";

const t = isolatedEnv("desk");
let routing: RunningRouting;
let bus: EventBus;
let client: AgentDeskClient;

beforeAll(async () => {
  routing = await startRouting(loadRoutingConfig(t.env));
  bus = createKafkaJsBus({ brokers: t.brokers, clientId: "desk-test", topicPrefix: t.topicPrefix });
  client = new AgentDeskClient(`127.0.0.1:${routing.grpcPort}`, credentials.createInsecure());
  const put = await fetch(`${routing.httpUrl}/v1/agents/gus`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(await bearer(tokens.admin())) },
    body: JSON.stringify(generalistAgent("Gus", ["en"])),
  });
  expect(put.status).toBe(200);
});

afterAll(async () => {
  client?.close();
  await routing?.close();
  await bus?.close();
});

/** The `authorization` metadata of an agent's token: the desk takes the acting agent from it. */
async function as(agentId: string): Promise<Metadata> {
  const metadata = new Metadata();
  metadata.set("authorization", (await bearer(tokens.agent(agentId))).authorization);
  return metadata;
}

async function stream(agentId: string) {
  const items: StreamWorkResponse[] = [];
  const call = client.streamWork({ agentId }, await as(agentId));
  call.on("data", (item: StreamWorkResponse) => items.push(item));
  call.on("error", () => undefined);
  return { items, cancel: () => call.cancel() };
}

const unary = async <Req, Res>(fn: (req: Req, metadata: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, caller: string | null = "gus") => {
  const metadata = caller === null ? new Metadata() : await as(caller);
  return new Promise<Res>((resolve, reject) => fn.call(client, req, metadata, (err, res) => (err ? reject(err) : resolve(res))));
};

describe("AgentDesk over gRPC", () => {
  it("describes itself by reflection and reports health SERVING once ready", async () => {
    const address = `127.0.0.1:${routing.grpcPort}`;
    expect(await listServicesByReflection(address)).toEqual(expect.arrayContaining(["steward.v1.AgentDesk", "grpc.health.v1.Health"]));
    await waitFor(async () => (await checkHealth(address)) === "SERVING" || undefined, { what: "gRPC health SERVING" });
  });

  it("streams an offer, accepts it, and lets only the owner resolve", async () => {
    await unary(client.setPresence.bind(client), { agentId: "gus", status: "available" });
    const live = await stream("gus");
    await bus.publish({
      topic: Topics.triaged,
      envelope: newEnvelope(
        "ticketTriaged",
        "desk-1",
        {
          language: "en",
          languageConfidence: 0.99,
          intent: "billing",
          intentConfidence: 0.9,
          priority: Priority.P3,
          group: "billing",
          requiredSkills: [{ name: "billing", minLevel: 2, optional: false }],
          slaPolicy: "default",
          policyVersion: "t",
          reasons: ["test"],
          repeatContactCount: 0,
          answerDidNotHelp: false,
          retriage: false,
          channel: Channel.EMAIL,
          overflowGroup: "",
          customerTier: "standard",
          customerId: "c1",
          subject: "Invoice",
          ticketReceivedAt: new Date(),
        },
        "test",
      ),
    });
    const offer = await waitFor(() => live.items.find((i) => i.kind === "offer" && i.ticketId === "desk-1"), { what: "offer on the gRPC stream", timeoutMs: 30_000 });
    expect(offer.channel).toBe(Channel.EMAIL);
    const accepted = await unary(client.accept.bind(client), { agentId: "gus", offerId: offer.offerId });
    expect(accepted).toEqual({ ticketId: "desk-1" });
    live.cancel();

    // A reconnecting agent gets the owned ticket again.
    const again = await stream("gus");
    await waitFor(() => again.items.find((i) => i.kind === "assignment" && i.ticketId === "desk-1"), { what: "owned work on reconnect" });
    again.cancel();

    const stranger = await unary(client.resolve.bind(client), { agentId: "", ticketId: "desk-1" }, "someone-else").catch((e: ServiceError) => e);
    expect((stranger as ServiceError).code).toBe(status.PERMISSION_DENIED);
    expect((stranger as ServiceError).details).toMatch(/^FORBIDDEN: /);
    // Naming another agent in the request does not make the caller that agent.
    const impostor = await unary(client.resolve.bind(client), { agentId: "gus", ticketId: "desk-1" }, "someone-else").catch((e: ServiceError) => e);
    expect((impostor as ServiceError).code).toBe(status.PERMISSION_DENIED);
    const anonymous = await unary(client.resolve.bind(client), { agentId: "gus", ticketId: "desk-1" }, null).catch((e: ServiceError) => e);
    expect((anonymous as ServiceError).code).toBe(status.UNAUTHENTICATED);
    await unary(client.resolve.bind(client), { agentId: "gus", ticketId: "desk-1" });
  });

  it("answers bad requests with INVALID_ARGUMENT and a readable message", async () => {
    const err = (await unary(client.setPresence.bind(client), { agentId: "gus", status: "sleeping" }).catch((e: ServiceError) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/available, away or offline/);
    const missing = (await unary(client.accept.bind(client), { agentId: "gus", offerId: "no-such-offer" }).catch((e: ServiceError) => e)) as ServiceError;
    expect(missing.code).toBe(status.NOT_FOUND);
  });
});
