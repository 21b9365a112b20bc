// The publish queue sends one batch at a time, always: two sends in flight at once on an idempotent producer
// can share a sequence number, and the broker then drops the second while answering success (the fault
// campaign lost tickets answered 202 that way). A caller is answered at the timeout; the queue is not.
import { describe, expect, it } from "vitest";
import { KafkaUnavailableError } from "./errors.ts";
import { createPublishQueue } from "./publish-queue.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A send that records what it was given and how many ran at once; the first waits for `release`. */
function gatedSend() {
  const calls: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const send = async (batch: string[]) => {
    calls.push(batch);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (calls.length === 1) await gate;
    } finally {
      inFlight--;
    }
  };
  return { send, calls, release, maxInFlight: () => maxInFlight };
}

describe("the publish queue", () => {
  it("answers a caller at the timeout but starts no batch while the abandoned send is still in flight", async () => {
    const s = gatedSend();
    const q = createPublishQueue(s.send, { timeoutMs: 50 });
    const first = q.enqueue(["a"]);
    await expect(first).rejects.toBeInstanceOf(KafkaUnavailableError); // answered at 50 ms, send still running
    const second = q.enqueue(["b"]);
    await wait(20);
    expect(s.calls).toEqual([["a"]]); // "b" waits for "a"'s send to end
    s.release();
    await second;
    expect(s.calls).toEqual([["a"], ["b"]]);
    expect(s.maxInFlight()).toBe(1);
  });

  it("never sends an item whose caller was answered while it still waited in the queue", async () => {
    const s = gatedSend();
    const q = createPublishQueue(s.send, { timeoutMs: 40 });
    const first = expect(q.enqueue(["a"])).rejects.toBeInstanceOf(KafkaUnavailableError);
    await wait(5);
    const second = q.enqueue(["b", "c"]);
    await expect(second).rejects.toThrow(/did not acknowledge/);
    await first;
    s.release();
    await q.drained();
    const third = q.enqueue(["d"]);
    await third;
    expect(s.calls).toEqual([["a"], ["d"]]); // "b" and "c" were never sent: their caller heard "failed"
  });

  it("batches what is published in the same tick and fails a whole batch with the send", async () => {
    const calls: string[][] = [];
    const q = createPublishQueue(
      async (batch: string[]) => {
        calls.push(batch);
        if (batch.includes("x")) throw new Error("broker said no");
      },
      { timeoutMs: 1_000 },
    );
    await Promise.all([q.enqueue(["a"]), q.enqueue(["b"])]);
    expect(calls).toEqual([["a", "b"]]);
    await expect(q.enqueue(["x"])).rejects.toBeInstanceOf(KafkaUnavailableError);
  });
});
