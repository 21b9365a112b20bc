import { describe, expect, it } from "vitest";
import { addOwnedWork, changePresence, convertOfferSlotToLoad, releaseOfferSlot, releaseOwnedWork, reserveOfferSlot } from "./agent-capacity.ts";
import { T0, anAgentState, errorOf, unwrap } from "../../test-support/domain-fixtures.ts";

const agent = anAgentState({ id: "a", capacity: { chat: 2, phone: 1 }, idleSince: T0 - 1_000 });

describe("agent capacity transitions", () => {
  it("reserves a slot per offer and refuses once load plus reservations reach capacity", () => {
    const once = unwrap(reserveOfferSlot(agent, "chat"));
    expect(once.reserved.chat).toBe(1);
    const twice = unwrap(reserveOfferSlot(once, "chat"));
    expect(errorOf(reserveOfferSlot(twice, "chat")).code).toBe("CAPACITY_EXCEEDED");
    expect(errorOf(reserveOfferSlot({ ...agent, load: { chat: 1 }, reserved: { chat: 1 } }, "chat")).code).toBe("CAPACITY_EXCEEDED");
    expect(errorOf(reserveOfferSlot(agent, "email")).code).toBe("CAPACITY_EXCEEDED");
  });

  it("refuses to reserve for an agent who is not available", () => {
    expect(errorOf(reserveOfferSlot({ ...agent, presence: "away" }, "chat")).code).toBe("AGENT_NOT_AVAILABLE");
  });

  it("turns an accepted offer's reservation into load and restarts the idle clock", () => {
    const reserved = unwrap(reserveOfferSlot(agent, "phone"));
    const loaded = unwrap(convertOfferSlotToLoad(reserved, "phone", T0));
    expect(loaded.reserved.phone).toBe(0);
    expect(loaded.load.phone).toBe(1);
    expect(loaded.idleSince).toBe(T0);
    expect(errorOf(convertOfferSlotToLoad(agent, "phone", T0)).code).toBe("CAPACITY_EXCEEDED");
  });

  it("releases reservations and load only when there is something to release", () => {
    expect(errorOf(releaseOfferSlot(agent, "chat")).code).toBe("CAPACITY_EXCEEDED");
    expect(errorOf(releaseOwnedWork(agent, "chat")).code).toBe("CAPACITY_EXCEEDED");
    expect(unwrap(releaseOfferSlot(unwrap(reserveOfferSlot(agent, "chat")), "chat")).reserved.chat).toBe(0);
    expect(unwrap(releaseOwnedWork({ ...agent, load: { chat: 2 } }, "chat")).load.chat).toBe(1);
  });

  it("adds owned work without an offer only within capacity", () => {
    expect(unwrap(addOwnedWork(agent, "chat", T0)).load.chat).toBe(1);
    expect(errorOf(addOwnedWork({ ...agent, load: { chat: 1 }, reserved: { chat: 1 } }, "chat", T0)).code).toBe("CAPACITY_EXCEEDED");
  });

  it("restarts the idle clock when an agent comes back, not when they leave", () => {
    const away = changePresence(agent, "away", T0);
    expect(away).toMatchObject({ presence: "away", presenceChangedAt: T0, idleSince: T0 - 1_000 });
    const back = changePresence(away, "available", T0 + 5_000);
    expect(back).toMatchObject({ presence: "available", presenceChangedAt: T0 + 5_000, idleSince: T0 + 5_000 });
    expect(changePresence(back, "available", T0 + 9_000)).toBe(back);
  });
});
