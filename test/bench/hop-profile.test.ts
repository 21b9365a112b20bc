// The hop profile's arithmetic: hops add up to each ticket's intake-to-offer time, a ticket missing a
// record is counted apart, and the slowest 1 % are the tickets with the largest totals.
import { describe, expect, it } from "vitest";
import { hopProfile, type StageTimes, type TicketTimes } from "./hop-profile.ts";

const identity = (ms: number) => ms;

function ticket(n: number, triageMs: number): { t: TicketTimes; s: StageTimes } {
  const intended = n * 1000;
  return {
    t: { ticketId: `T-${n}`, intended, sentAt: intended + 1, offeredAt: intended + 10 + triageMs },
    s: { received: intended + 3, triaged: intended + 3 + triageMs, offerLogged: intended + 6 + triageMs, offerSent: intended + 8 + triageMs },
  };
}

describe("hopProfile", () => {
  it("splits each ticket's time into hops that add up to its total", () => {
    const made = Array.from({ length: 200 }, (_, i) => ticket(i, i === 7 ? 90 : 2));
    const stages = new Map(made.map(({ t, s }) => [t.ticketId, s]));
    const profile = hopProfile(
      made.map((m) => m.t),
      stages,
      identity,
    );
    expect(profile.tickets).toBe(200);
    expect(profile.incomplete).toBe(0);
    const p50 = Object.fromEntries(profile.hops.map((h) => [h.hop, h.summary.p50]));
    expect(p50).toEqual({ generator: 1, intake: 2, triage: 2, routing: 3, logAck: 2, agent: 2 });
    // The slowest 1 % of 200 is two tickets: the one whose triage took 90 ms, and one of the rest.
    expect(profile.slowest.tickets).toBe(2);
    expect(profile.slowest.totalMeanMs).toBe((100 + 12) / 2);
    const triage = profile.slowest.hops.find((h) => h.hop === "triage");
    expect(triage?.meanMs).toBe(46);
    const sum = profile.slowest.hops.reduce((acc, h) => acc + h.meanMs, 0);
    expect(sum).toBeCloseTo(profile.slowest.totalMeanMs, 5);
  });

  it("counts a ticket without every record apart, and maps Kafka's clock onto the bench's", () => {
    const a = ticket(1, 2);
    const b = ticket(2, 2);
    const shifted = new Map([
      [a.t.ticketId, { received: a.s.received! + 500, triaged: a.s.triaged! + 500, offerLogged: a.s.offerLogged! + 500, offerSent: a.s.offerSent! + 500 }],
      [b.t.ticketId, { received: 1 }],
    ]);
    const profile = hopProfile([a.t, b.t], shifted, (ms) => ms - 500);
    expect(profile.tickets).toBe(1);
    expect(profile.incomplete).toBe(1);
    expect(profile.hops.find((h) => h.hop === "intake")?.summary.p50).toBe(2);
  });
});
