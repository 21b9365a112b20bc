// The write-behind buffer: items of one key gathered over an interval reach the writer in one call and in
// order, add() waits for the flush that holds its items, a failed flush fails exactly its waiters,
// close() writes what still waits, take() answers before the write unless the buffer is full, and a key
// held back goes with the next flush together with every add() that carried it.
import { describe, expect, it } from "vitest";
import { WriteBehind } from "./write-behind.ts";

function recorder(fail?: (byKey: ReadonlyMap<string, readonly number[]>) => boolean) {
  const calls: Array<Record<string, number[]>> = [];
  const write = async (byKey: ReadonlyMap<string, readonly number[]>) => {
    calls.push(Object.fromEntries([...byKey].map(([k, v]) => [k, [...v]])));
    if (fail?.(byKey)) throw new Error("store refused");
  };
  return { calls, write };
}

describe("WriteBehind", () => {
  it("gathers each key's items from several adds into one write, in order", async () => {
    const { calls, write } = recorder();
    const buffer = new WriteBehind<number>(write, { flushMs: 50, maxKeys: 100 });
    let firstDone = false;
    const first = buffer
      .add([
        ["t1", 1],
        ["t2", 10],
      ])
      .then(() => void (firstDone = true));
    const second = buffer.add([["t1", 2]]);
    await Promise.resolve();
    expect(firstDone).toBe(false);
    await Promise.all([first, second]);
    expect(calls).toEqual([{ t1: [1, 2], t2: [10] }]);
  });

  it("flushes at once when enough keys wait", async () => {
    const { calls, write } = recorder();
    const buffer = new WriteBehind<number>(write, { flushMs: 60_000, maxKeys: 2 });
    await buffer.add([
      ["a", 1],
      ["b", 2],
    ]);
    expect(calls).toEqual([{ a: [1], b: [2] }]);
  });

  it("rejects the adds of a failed flush, and only those", async () => {
    const { write } = recorder((byKey) => byKey.has("bad"));
    const buffer = new WriteBehind<number>(write, { flushMs: 10, maxKeys: 100 });
    await expect(buffer.add([["bad", 1]])).rejects.toThrow("store refused");
    await expect(buffer.add([["good", 2]])).resolves.toBeUndefined();
  });

  it("writes what waits when closed", async () => {
    const { calls, write } = recorder();
    const buffer = new WriteBehind<number>(write, { flushMs: 60_000, maxKeys: 100 });
    const pending = buffer.add([["t", 1]]);
    await buffer.close();
    await pending;
    expect(calls).toEqual([{ t: [1] }]);
  });

  it("writes at once when hurried, and once closing, whatever is added later too", async () => {
    const { calls, write } = recorder();
    const buffer = new WriteBehind<number>(write, { flushMs: 60_000, maxKeys: 100 });
    const first = buffer.add([["t1", 1]]);
    buffer.hurry();
    await first;
    expect(calls).toEqual([{ t1: [1] }]);
    await buffer.close();
    // Added after close began (a batch still in hand at a stop): not left for the 60 s interval.
    await buffer.add([["t2", 2]]);
    expect(calls).toEqual([{ t1: [1] }, { t2: [2] }]);
  });

  it("take() answers at once with the write still to come, and waits for it when the buffer is full", async () => {
    const { calls, write } = recorder();
    const buffer = new WriteBehind<number>(write, { flushMs: 60_000, maxKeys: 3 });
    const { durable } = await buffer.take([["a", 1]]);
    let landed = false;
    void durable.then(() => void (landed = true));
    await Promise.resolve();
    expect(calls).toEqual([]);
    expect(landed).toBe(false);
    // The third key fills the buffer: this take returns only once the flush holding all three landed.
    await buffer.take([
      ["b", 2],
      ["c", 3],
    ]);
    expect(calls).toEqual([{ a: [1], b: [2], c: [3] }]);
    await durable;
  });

  it("holds a key back for the next flush, with every add that carried it, and writes the others now", async () => {
    const { calls, write } = recorder();
    let holding = true;
    const buffer = new WriteBehind<number>(write, { flushMs: 30, maxKeys: 100, holdBack: (key) => holding && key === "young" });
    let mixedDone = false;
    let otherDone = false;
    const mixed = buffer
      .add([
        ["young", 1],
        ["old", 2],
      ])
      .then(() => void (mixedDone = true));
    const other = buffer.add([["other", 3]]).then(() => void (otherDone = true));
    await other;
    expect(calls).toEqual([{ old: [2], other: [3] }]);
    expect(otherDone).toBe(true);
    expect(mixedDone).toBe(false);
    // Items added meanwhile join the held key's list, after the held ones.
    void buffer.add([["young", 4]]);
    holding = false;
    await mixed;
    expect(calls).toEqual([{ old: [2], other: [3] }, { young: [1, 4] }]);
  });
});
