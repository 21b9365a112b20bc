// The offset committer's bookkeeping: the highest handled offset per partition, one request for all of
// them, nothing forgotten when a commit fails or a record is handled while a commit is in flight, and
// nothing committed for a partition the member no longer holds.
import { afterEach, describe, expect, it } from "vitest";
import { createOffsetCommitter, type OffsetCommit, type OffsetCommitter } from "./offset-committer.ts";

let committer: OffsetCommitter | undefined;
afterEach(async () => {
  await committer?.close();
  committer = undefined;
});

function recording(fail: () => boolean = () => false) {
  const requests: OffsetCommit[][] = [];
  const errors: unknown[] = [];
  let release: (() => void) | undefined;
  const state = {
    requests,
    errors,
    hold: false,
    release: () => release?.(),
  };
  committer = createOffsetCommitter({
    intervalMs: 60_000, // flushed by hand in these tests
    commit: async (offsets) => {
      requests.push(offsets);
      if (state.hold) await new Promise<void>((r) => (release = r));
      if (fail()) throw new Error("coordinator moved");
    },
    onError: (err) => void errors.push(err),
  });
  return { c: committer, state };
}

const sorted = (o: OffsetCommit[]) => [...o].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);

describe("offset committer", () => {
  it("commits the next offset after the highest handled record of every partition, in one request", async () => {
    const { c, state } = recording();
    // Records 0..49 spread over three partitions: the last ones are 48 (p0), 49 (p1) and 47 (p2).
    for (let i = 0; i < 50; i += 1) c.handled("t", i % 3, String(i));
    c.handled("u", 0, "7");
    await c.flush();
    expect(state.requests).toHaveLength(1);
    expect(sorted(state.requests[0] ?? [])).toEqual([
      { topic: "t", partition: 0, offset: "49" },
      { topic: "t", partition: 1, offset: "50" },
      { topic: "t", partition: 2, offset: "48" },
      { topic: "u", partition: 0, offset: "8" },
    ]);
    await c.flush();
    expect(state.requests).toHaveLength(1); // nothing new: no request
  });

  it("never moves a partition back when an older record is handled again", async () => {
    const { c } = recording();
    c.handled("t", 0, "10");
    c.handled("t", 0, "4");
    expect(c.pending()).toEqual([{ topic: "t", partition: 0, offset: "11" }]);
  });

  it("keeps what a failed commit carried and sends it with the next one", async () => {
    let failing = true;
    const { c, state } = recording(() => failing);
    c.handled("t", 0, "1");
    await c.flush();
    expect(state.errors).toHaveLength(1);
    failing = false;
    c.handled("t", 1, "5");
    await c.flush();
    expect(sorted(state.requests[1] ?? [])).toEqual([
      { topic: "t", partition: 0, offset: "2" },
      { topic: "t", partition: 1, offset: "6" },
    ]);
    expect(c.pending()).toEqual([]);
  });

  it("keeps a record handled while a commit is in flight for the next commit", async () => {
    const { c, state } = recording();
    c.handled("t", 0, "1");
    state.hold = true;
    const first = c.flush();
    await new Promise((r) => setTimeout(r, 0));
    c.handled("t", 0, "2");
    state.hold = false;
    state.release();
    await first;
    expect(c.pending()).toEqual([{ topic: "t", partition: 0, offset: "3" }]);
    await c.flush();
    expect(state.requests.map((r) => r.map((o) => o.offset))).toEqual([["2"], ["3"]]);
  });

  it("forgets partitions a new assignment took away", async () => {
    const { c, state } = recording();
    c.handled("t", 0, "1");
    c.handled("t", 1, "1");
    c.handled("u", 0, "1");
    c.assigned({ t: [1] });
    await c.flush();
    expect(state.requests).toEqual([[{ topic: "t", partition: 1, offset: "2" }]]);
  });

  it("commits what is left when it closes", async () => {
    const { c, state } = recording();
    c.handled("t", 0, "9");
    await c.close();
    committer = undefined;
    expect(state.requests).toEqual([[{ topic: "t", partition: 0, offset: "10" }]]);
  });
});
