import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NO_RELAXATION, T0, aTicket } from "../../test-support/domain-fixtures.ts";
import { HeapCursor, type IndexedHeap } from "./indexed-heap.ts";
import { PRIORITIES, type RelaxationPolicy, type WaitingTicket } from "./model.ts";
import { compareRoutingOrder } from "./routing-order.ts";
import { TicketQueues, type Lane, type Partition, type SubQueue } from "./ticket-queues.ts";

const POLICY: RelaxationPolicy = { dropOptionalSkillsAfterMs: 10_000, addOverflowGroupAfterMs: 20_000, allowLanguageRelaxation: true, dropLanguageAfterMs: 30_000 };

function lanesOf(queues: TicketQueues): Lane[] {
  const lanes: Lane[] = [];
  for (const group of ["g1", "g2"]) {
    for (const language of ["en", "fr", null]) {
      lanes.push(queues.homeLane(group, "chat", language), queues.overflowLane(group, "chat", language));
    }
  }
  return lanes;
}

function walk(heap: IndexedHeap<SubQueue>): SubQueue[] {
  const cursor = new HeapCursor(heap);
  const seen: SubQueue[] = [];
  for (let s = cursor.peek(); s !== undefined; cursor.advance(), s = cursor.peek()) seen.push(s);
  return seen;
}

function walkPartitions(lane: Lane): Partition[] {
  const cursor = new HeapCursor(lane.byHead);
  const seen: Partition[] = [];
  for (let p = cursor.peek(); p !== undefined; cursor.advance(), p = cursor.peek()) seen.push(p);
  return seen;
}

describe("ticket queues", () => {
  it("keeps every lane ordered by each sub-queue's current head, through any adds and removals", () => {
    const ticketArbitrary = fc.record({
      group: fc.constantFrom("g1", "g2"),
      overflow: fc.constantFrom(undefined, "g2"),
      language: fc.constantFrom("en", "fr"),
      priority: fc.constantFrom(...PRIORITIES),
      skill: fc.constantFrom(0, 3),
      age: fc.integer({ min: 0, max: 60 }),
      // Few distinct shapes, so sub-queues hold several tickets and lose their head while non-empty.
      relaxed: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), ticketArbitrary, fc.nat()), { maxLength: 120 }), (operations) => {
        const queues = new TicketQueues();
        const present: string[] = [];
        operations.forEach(([add, t, pick], i) => {
          if (add || present.length === 0) {
            const ticket: WaitingTicket = aTicket({
              id: `t${i}`,
              group: t.group,
              language: t.language,
              priority: t.priority,
              enqueuedAt: T0 - t.age * 1_000,
              requiredSkills: t.skill === 0 ? [] : [{ name: "x", minLevel: t.skill }],
              ...(t.overflow === undefined ? {} : { overflowGroup: t.overflow }),
            });
            queues.add(ticket, t.relaxed ? POLICY : NO_RELAXATION, T0);
            present.push(ticket.id);
          } else {
            const [id] = present.splice(pick % present.length, 1);
            expect(queues.remove(id as string)).toBe(true);
          }
          for (const lane of lanesOf(queues)) {
            let laneTickets = 0;
            for (const [keySkill, partition] of lane.partitions) {
              const subQueues = walk(partition.heap);
              expect(subQueues.length).toBeGreaterThan(0);
              const heads = subQueues.map((s) => (s.head as { ticket: WaitingTicket }).ticket);
              const sorted = [...heads].sort(compareRoutingOrder);
              expect(heads.map((h) => h.id)).toEqual(sorted.map((h) => h.id));
              expect(subQueues.every((s) => s.keySkill === keySkill)).toBe(true);
              expect(partition.tickets).toBe(subQueues.reduce((sum, s) => sum + s.size, 0));
              laneTickets += partition.tickets;
            }
            expect(lane.tickets).toBe(laneTickets);
            const partitionHeads = walkPartitions(lane).map((p) => ((p.heap.peek() as SubQueue).head as { ticket: WaitingTicket }).ticket);
            expect(partitionHeads).toHaveLength(lane.partitions.size);
            expect(partitionHeads.map((h) => h.id)).toEqual([...partitionHeads].sort(compareRoutingOrder).map((h) => h.id));
          }
        });
        expect(queues.size).toBe(present.length);
        const counted = ["g1", "g2"].reduce((sum, group) => sum + queues.countIn(group, "chat"), 0);
        expect(counted).toBe(present.length);
      }),
      { numRuns: 1000 },
    );
  }, 60_000);

  it("puts alike tickets in one sub-queue and files it in every lane that may reach it", () => {
    const queues = new TicketQueues();
    const ticket = aTicket({ id: "a", group: "g1", overflowGroup: "g2", language: "fr", requiredSkills: [{ name: "x", minLevel: 3 }] });
    queues.add(ticket, POLICY, T0);
    queues.add({ ...ticket, id: "b" }, POLICY, T0);
    expect(queues.subQueueCount).toBe(1);
    for (const lane of [
      queues.homeLane("g1", "chat", "fr"),
      queues.homeLane("g1", "chat", null),
      queues.overflowLane("g2", "chat", "fr"),
      queues.overflowLane("g2", "chat", null),
    ]) {
      expect(lane.tickets).toBe(2);
      expect([...lane.partitions.keys()]).toEqual(["x"]);
    }
    queues.add(
      {
        ...ticket,
        id: "c",
        requiredSkills: [
          { name: "x", minLevel: 4 },
          { name: "y", minLevel: 6 },
        ],
      },
      POLICY,
      T0,
    );
    expect(queues.subQueueCount).toBe(2);
    // Filed under its hardest mandatory skill: agents without "y" never open it.
    expect([...queues.homeLane("g1", "chat", "fr").partitions.keys()].sort()).toEqual(["x", "y"]);
    for (const id of ["a", "b", "c"]) queues.remove(id);
    expect(queues.subQueueCount).toBe(0);
    expect(queues.homeLane("g1", "chat", "fr").tickets).toBe(0);
    expect(queues.homeLane("g1", "chat", "fr").partitions.size).toBe(0);
    expect(queues.overflowLane("g2", "chat", null).tickets).toBe(0);
  });

  it("does not file a sub-queue where no relaxation could ever take it", () => {
    const queues = new TicketQueues();
    queues.add(aTicket({ id: "a", group: "g1", overflowGroup: "g2" }), NO_RELAXATION, T0);
    expect(queues.overflowLane("g2", "chat", "en").tickets).toBe(0);
    expect(queues.homeLane("g1", "chat", null).tickets).toBe(0);
  });

  it("moves tickets to later stages as they wait, without changing the sub-queue's head", () => {
    const queues = new TicketQueues();
    const older = queues.add(aTicket({ id: "old", priority: "P2", enqueuedAt: T0 - 15_000 }), POLICY, T0);
    const newer = queues.add(aTicket({ id: "new", priority: "P1", enqueuedAt: T0 }), POLICY, T0);
    expect([older.stage, newer.stage]).toEqual([1, 0]);
    const subQueue = older.subQueue;
    subQueue.promote(T0 + 4_999);
    expect([older.stage, newer.stage]).toEqual([1, 0]);
    subQueue.promote(T0 + 35_000);
    expect([older.stage, newer.stage]).toEqual([3, 3]);
    expect(subQueue.head?.ticket.id).toBe("new");
    expect(subQueue.stages.map((s) => s.size)).toEqual([0, 0, 0, 2]);
  });
});
