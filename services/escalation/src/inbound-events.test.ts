import { describe, expect, it } from "vitest";
import { newEnvelope } from "@steward/messaging";
import { AgentReplied, Channel, MessageReceived, Priority, TicketQueued, TicketTriaged } from "@steward/proto";
import { slaInputOf } from "./inbound-events.ts";

const now = new Date("2026-11-24T10:00:00.000Z");
const earlier = new Date("2026-11-24T09:59:00.000Z");

describe("reading other services' events as SLA inputs", () => {
  it("tells a customer's follow-up from an agent's public reply", () => {
    const message = (from: string) => slaInputOf(newEnvelope("messageReceived", "T-1", { ...MessageReceived.fromJSON({}), from }, "intake", { occurredAt: earlier }), now);
    expect(message("customer")).toEqual({ at: earlier.toISOString(), input: { type: "customerMessage" } });
    expect(message("agent")?.input).toEqual({ type: "agentReplied" });
  });

  it("counts the gateway's public reply as the agent's response, and an internal note as nothing", () => {
    const reply = (visibility: string) =>
      slaInputOf(newEnvelope("agentReplied", "T-1", { ...AgentReplied.fromJSON({}), agentId: "ana", body: "hi", visibility }, "routing", { occurredAt: earlier }), now);
    expect(reply("public")).toEqual({ at: earlier.toISOString(), input: { type: "agentReplied" } });
    expect(reply("internal")).toBeNull();
  });

  it("reads triage's priority, channel, group and customer signals", () => {
    const value = {
      ...TicketTriaged.fromJSON({}),
      priority: Priority.P2,
      channel: Channel.CHAT,
      group: "billing",
      slaPolicy: "vip",
      repeatContactCount: 2,
      answerDidNotHelp: true,
    };
    expect(slaInputOf(newEnvelope("ticketTriaged", "T-1", value, "triage", { occurredAt: earlier }), now)?.input).toEqual({
      type: "triaged",
      priority: "P2",
      channel: "chat",
      group: "billing",
      policyName: "vip",
      answerDidNotHelp: true,
      repeatContactCount: 2,
    });
    const unspecified = slaInputOf(newEnvelope("ticketTriaged", "T-1", TicketTriaged.fromJSON({}), "triage"), now)?.input;
    expect(unspecified).toMatchObject({ priority: "P3", channel: null, group: null });
  });

  it("never dates an input after now (a producer's clock running ahead)", () => {
    const ahead = new Date(now.getTime() + 60_000);
    expect(slaInputOf(newEnvelope("ticketResolved", "T-1", { agentId: "a" }, "routing", { occurredAt: ahead }), now)?.at).toBe(now.toISOString());
  });

  it("ignores queue moves, events without a ticket and assignments without an agent", () => {
    expect(slaInputOf(newEnvelope("ticketQueued", "T-1", TicketQueued.fromJSON({}), "routing"), now)).toBeNull();
    expect(slaInputOf(newEnvelope("ticketResolved", "", { agentId: "a" }, "routing"), now)).toBeNull();
    expect(slaInputOf(newEnvelope("ticketAssigned", "T-1", { agentId: "", offerId: "o", channel: Channel.EMAIL }, "routing"), now)).toBeNull();
  });
});
