import { describe, expect, it } from "vitest";
import * as domain from "./index.ts";
import { ROUTING_ERROR_CODES } from "./errors.ts";
import { TRANSITIONS } from "./transitions.ts";

describe("transition catalogue", () => {
  it("names only exported pure functions, each once", () => {
    const names = TRANSITIONS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(typeof (domain as Record<string, unknown>)[name]).toBe("function");
  });

  it("lists only known error codes, and every guarded transition says how it fails", () => {
    for (const transition of TRANSITIONS) {
      for (const code of transition.errors) expect(ROUTING_ERROR_CODES).toContain(code);
      if (transition.preconditions.length > 0) expect(transition.errors.length).toBeGreaterThan(0);
    }
  });

  it("covers the ownership invariants the store must enforce", () => {
    const byName = new Map(TRANSITIONS.map((t) => [t.name, t]));
    expect(byName.get("acceptOffer")?.preconditions).toContain("ownerId = null");
    expect(byName.get("reserveOfferSlot")?.preconditions).toContain("load[c] + reserved[c] < capacity[c]");
    expect(byName.get("reassignBySupervisor")?.preconditions).toContain("actor.role = supervisor");
    expect(byName.get("resolveTicket")?.effects).toContain("lastOwnerId kept");
    expect(byName.get("requestTransfer")?.errors).toEqual(["OWNERSHIP_CONFLICT"]);
  });
});
