import { describe, expect, it } from "vitest";
import { InputCoalescer } from "./input-coalescer.ts";
import type { InputEvent } from "./sla-ledger.ts";

const event = (eventId: string): InputEvent => ({ eventId, timed: { at: "2026-11-22T09:00:00.000Z", input: { type: "resolved" } } });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A coalescer whose writes are recorded (ticket and event ids per call); `failing` event ids throw. */
function recording(lingerMs: number, failing: ReadonlySet<string> = new Set()) {
  const calls: Array<{ ticketId: string; eventIds: string[] }> = [];
  const coalescer = new InputCoalescer({
    lingerMs,
    apply: async (ticketId, events) => {
      await sleep(1);
      if (events.some((e) => failing.has(e.eventId))) throw new Error("cannot apply");
      calls.push({ ticketId, eventIds: events.map((e) => e.eventId) });
    },
  });
  return { calls, coalescer };
}

describe("InputCoalescer", () => {
  it("applies the inputs one ticket receives within the window with one call, in arrival order", async () => {
    const { calls, coalescer } = recording(50);
    const first = coalescer.submit("T-1", event("received"));
    await sleep(10);
    const others = [coalescer.submit("T-2", event("other")), coalescer.submit("T-1", event("triaged")), coalescer.submit("T-1", event("assigned"))];
    await Promise.all([first, ...others]);
    expect(calls).toContainEqual({ ticketId: "T-1", eventIds: ["received", "triaged", "assigned"] });
    expect(calls).toContainEqual({ ticketId: "T-2", eventIds: ["other"] });
    expect(calls).toHaveLength(2);
  });

  it("settles an event only once it is applied", async () => {
    const { calls, coalescer } = recording(30);
    let settled = false;
    const applied = coalescer.submit("T-1", event("e1")).then(() => (settled = true));
    await sleep(5);
    expect(settled).toBe(false);
    await applied;
    expect(calls).toEqual([{ ticketId: "T-1", eventIds: ["e1"] }]);
  });

  it("starts a new window for inputs that come after the ticket's window closed", async () => {
    const { calls, coalescer } = recording(20);
    await coalescer.submit("T-1", event("e1"));
    await coalescer.submit("T-1", event("e2"));
    expect(calls.map((c) => c.eventIds)).toEqual([["e1"], ["e2"]]);
  });

  it("fails only the event that cannot be applied, applying its neighbours alone", async () => {
    const { calls, coalescer } = recording(20, new Set(["poison"]));
    const results = await Promise.allSettled([coalescer.submit("T-1", event("good-1")), coalescer.submit("T-1", event("poison")), coalescer.submit("T-1", event("good-2"))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(calls.map((c) => c.eventIds)).toEqual([["good-1"], ["good-2"]]);
  });

  it("applies at once what is submitted without lingering, with what its ticket gathered so far", async () => {
    const { calls, coalescer } = recording(60_000);
    const gathered = coalescer.submit("T-1", event("e1"));
    await Promise.race([Promise.all([gathered, coalescer.submit("T-1", event("e2"), false)]), sleep(1_000).then(() => expect.fail("still waiting"))]);
    expect(calls).toEqual([{ ticketId: "T-1", eventIds: ["e1", "e2"] }]);
  });

  it("applies everything gathered at once when flushed", async () => {
    const { calls, coalescer } = recording(60_000);
    const applied = Promise.all([coalescer.submit("T-1", event("e1")), coalescer.submit("T-2", event("e2"))]);
    coalescer.flush();
    await applied;
    expect(calls).toHaveLength(2);
  });

  it("applies no more tickets at once than its concurrency", async () => {
    let active = 0;
    let most = 0;
    const coalescer = new InputCoalescer({
      lingerMs: 0,
      concurrency: 3,
      apply: async () => {
        active += 1;
        most = Math.max(most, active);
        await sleep(5);
        active -= 1;
      },
    });
    await Promise.all(Array.from({ length: 12 }, (_, i) => coalescer.submit(`T-${i}`, event(`e${i}`))));
    expect(most).toBe(3);
  });
});
