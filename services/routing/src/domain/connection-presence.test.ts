// Presence follows the connection: what the system does once an agent's streams are gone, and when one returns.
import { describe, expect, it } from "vitest";
import { DISCONNECTED_REASON, SYSTEM_ACTOR, presenceAfterDisconnect, presenceOnReconnect, type PresenceFacts } from "./connection-presence.ts";

const agent = (facts: Partial<PresenceFacts>): PresenceFacts => ({ presence: "available", presenceChangedAt: 1_000, ...facts });

describe("presenceAfterDisconnect", () => {
  it("sets an available agent away, naming the system", () => {
    expect(presenceAfterDisconnect(agent({}), 5_000)).toEqual({ presence: "away", actor: SYSTEM_ACTOR, reason: DISCONNECTED_REASON });
  });

  it("leaves an agent who chose a presence after the stream closed", () => {
    expect(presenceAfterDisconnect(agent({ presenceChangedAt: 6_000 }), 5_000)).toBeNull();
  });

  it("leaves an agent who is not taking work anyway", () => {
    expect(presenceAfterDisconnect(agent({ presence: "away" }), 5_000)).toBeNull();
    expect(presenceAfterDisconnect(agent({ presence: "offline" }), 5_000)).toBeNull();
  });
});

describe("presenceOnReconnect", () => {
  it("makes an agent the system set away available again", () => {
    expect(presenceOnReconnect(agent({ presence: "away", presenceChangedBy: SYSTEM_ACTOR, presenceReason: DISCONNECTED_REASON }))).toMatchObject({
      presence: "available",
      actor: SYSTEM_ACTOR,
    });
  });

  it("never overrides a presence a person chose", () => {
    expect(presenceOnReconnect(agent({ presence: "away", presenceChangedBy: "ana" }))).toBeNull();
    expect(presenceOnReconnect(agent({ presence: "offline", presenceChangedBy: "sam" }))).toBeNull();
    expect(presenceOnReconnect(agent({ presence: "available" }))).toBeNull();
    // Documents written before the field existed name nobody.
    expect(presenceOnReconnect(agent({ presence: "away" }))).toBeNull();
  });
});
