import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PRIORITIES } from "./model.ts";
import { compareRoutingOrder, decidingOrderCriterion, type RoutingKey } from "./routing-order.ts";

const key = (id: string, overrides: Partial<RoutingKey> = {}): RoutingKey => ({ id, priority: "P3", enqueuedAt: 1_000, ...overrides });

function sortIds(keys: RoutingKey[]): string[] {
  return [...keys].sort(compareRoutingOrder).map((k) => k.id);
}

describe("routing order", () => {
  it("serves higher priority first, whatever the age or deadline", () => {
    const ordered = sortIds([
      key("p4-old", { priority: "P4", enqueuedAt: 0, slaDeadline: 10 }),
      key("p1-new", { priority: "P1", enqueuedAt: 9_999 }),
      key("p2", { priority: "P2" }),
    ]);
    expect(ordered).toEqual(["p1-new", "p2", "p4-old"]);
  });

  it("within a priority, serves the ticket closest to breaking its SLA first, and tickets without SLA last", () => {
    const ordered = sortIds([
      key("no-sla-oldest", { enqueuedAt: 0 }),
      key("late-deadline", { slaDeadline: 50_000, enqueuedAt: 10 }),
      key("early-deadline", { slaDeadline: 20_000, enqueuedAt: 900 }),
    ]);
    expect(ordered).toEqual(["early-deadline", "late-deadline", "no-sla-oldest"]);
  });

  it("then the oldest first, then by id", () => {
    expect(sortIds([key("b", { enqueuedAt: 5 }), key("a", { enqueuedAt: 7 }), key("c", { enqueuedAt: 5 })])).toEqual(["b", "c", "a"]);
  });

  it("names the criterion that decided", () => {
    expect(decidingOrderCriterion(key("a", { priority: "P1" }), key("b"))).toBe("priority");
    expect(decidingOrderCriterion(key("a", { slaDeadline: 1 }), key("b"))).toBe("sla-deadline");
    expect(decidingOrderCriterion(key("a", { enqueuedAt: 1 }), key("b"))).toBe("enqueued-at");
    expect(decidingOrderCriterion(key("a"), key("b"))).toBe("ticket-id");
  });

  it("is a total order: antisymmetric, transitive, zero only for the same id", () => {
    const arbitraryKey = fc
      .record({
        id: fc.constantFrom("a", "b", "c", "d"),
        priority: fc.constantFrom(...PRIORITIES),
        slaDeadline: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
        enqueuedAt: fc.integer({ min: 0, max: 5 }),
      })
      .map(({ slaDeadline, ...rest }): RoutingKey => (slaDeadline === undefined ? rest : { ...rest, slaDeadline }));
    fc.assert(
      fc.property(arbitraryKey, arbitraryKey, arbitraryKey, (a, b, c) => {
        expect(Math.sign(compareRoutingOrder(a, b)) + 0).toBe(-Math.sign(compareRoutingOrder(b, a)) + 0);
        if (compareRoutingOrder(a, b) <= 0 && compareRoutingOrder(b, c) <= 0) expect(compareRoutingOrder(a, c)).toBeLessThanOrEqual(0);
        if (compareRoutingOrder(a, b) === 0) expect(a.id).toBe(b.id);
      }),
    );
  });
});
