import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeapCursor, IndexedHeap, type HeapEntry } from "./indexed-heap.ts";

const byValue = (a: number, b: number): number => a - b;

describe("indexed heap", () => {
  it("pops in order after any mix of pushes and removals from the middle", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 })), fc.array(fc.nat()), (values, removals) => {
        const heap = new IndexedHeap<number>(byValue);
        const entries: HeapEntry<number>[] = values.map((v) => heap.push(v));
        const removed = new Set<HeapEntry<number>>();
        for (const r of removals) {
          const entry = entries[r % Math.max(1, entries.length)];
          if (entry === undefined) continue;
          expect(heap.remove(entry)).toBe(!removed.has(entry));
          removed.add(entry);
        }
        const expected = entries
          .filter((e) => !removed.has(e))
          .map((e) => e.item)
          .sort(byValue);
        expect(heap.size).toBe(expected.length);
        const popped: number[] = [];
        for (let v = heap.pop(); v !== undefined; v = heap.pop()) popped.push(v);
        expect(popped).toEqual(expected);
      }),
    );
  });

  it("walks in order with a cursor without changing the heap", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.nat({ max: 60 }), (values, take) => {
        const heap = new IndexedHeap<number>(byValue);
        for (const v of values) heap.push(v);
        const cursor = new HeapCursor(heap);
        const walked: number[] = [];
        for (let i = 0; i < take && cursor.peek() !== undefined; i++, cursor.advance()) walked.push(cursor.peek() as number);
        expect(walked).toEqual([...values].sort(byValue).slice(0, take));
        expect(heap.size).toBe(values.length);
      }),
    );
  });

  it("reports an empty heap and a spent entry", () => {
    const heap = new IndexedHeap<number>(byValue);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    const entry = heap.push(1);
    expect(heap.remove(entry)).toBe(true);
    expect(heap.remove(entry)).toBe(false);
    expect(new HeapCursor(heap).peek()).toBeUndefined();
  });
});
