// The agent index after any sequence of puts and deletes must answer exactly as an index built from
// scratch from the final states: the incremental re-filing on load changes may not drift.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentPool } from "./agent-pool.ts";
import { CHANNELS, type AgentState, type Channel } from "./model.ts";

const GROUPS = ["g1", "g2", "g3"] as const;
const LANGUAGES = ["en", "fr", "de"] as const;
const USED: readonly Channel[] = ["chat", "email", "phone"];

const agentArbitrary = (ids: readonly string[]): fc.Arbitrary<AgentState> =>
  fc
    .record({
      id: fc.constantFrom(...ids),
      groups: fc.subarray([...GROUPS], { minLength: 1 }),
      languages: fc.subarray([...LANGUAGES], { minLength: 1 }),
      presence: fc.constantFrom("available", "available", "away", "offline"),
      capacity: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })),
      load: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })),
      reserved: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })),
      skill: fc.integer({ min: 0, max: 10 }),
    })
    .map((a): AgentState => ({
      id: a.id,
      name: a.id,
      groups: a.groups,
      languages: a.languages,
      skills: a.skill > 0 ? { s: a.skill } : {},
      capacity: { chat: a.capacity[0], email: a.capacity[1], phone: a.capacity[2] },
      load: { chat: a.load[0], email: a.load[1], phone: a.load[2] },
      reserved: { chat: a.reserved[0], email: a.reserved[1], phone: a.reserved[2] },
      presence: a.presence,
      presenceChangedAt: 0,
      idleSince: 0,
    }));

/** The same agent with only its load, reservations or presence changed (the hot path's kind of put). */
const loadChange = (agent: AgentState, seed: number): AgentState => ({
  ...agent,
  load: { ...agent.load, [USED[seed % 3] as Channel]: (seed >> 2) % 3 },
  reserved: { ...agent.reserved, [USED[(seed >> 4) % 3] as Channel]: (seed >> 6) % 2 },
  presence: (seed >> 7) % 5 === 0 ? "away" : "available",
  skills: (seed >> 9) % 4 === 0 ? { s: (seed % 9) + 1 } : agent.skills,
});

type Step = { kind: "put"; agent: AgentState } | { kind: "change"; id: string; seed: number } | { kind: "delete"; id: string };

function view(pool: AgentPool): unknown {
  const out: Record<string, unknown> = { size: pool.size };
  const ids = (set: ReadonlySet<{ state: AgentState }>) => [...set].map((p) => p.state.id).sort();
  for (const group of GROUPS) {
    out[`members:${group}`] = ids(pool.members(group));
    for (const other of GROUPS) out[`both:${group}:${other}`] = group === other ? null : ids(pool.inBoth(group, other));
    for (const channel of CHANNELS) {
      for (const language of [null, ...LANGUAGES]) {
        out[`free:${group}:${language}:${channel}`] = ids(pool.free(group, language, channel));
        out[`funnel:${group}:${language}:${channel}`] = pool.funnel(group, language, channel);
      }
    }
  }
  for (const agent of pool.all()) out[`skills:${agent.id}`] = [...(pool.pooled(agent.id)?.skills ?? new Map())];
  return out;
}

describe("AgentPool", () => {
  it("answers after any puts, load changes and deletes exactly as a pool built from the final states", () => {
    const ids = ["a1", "a2", "a3", "a4"];
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 2, arbitrary: agentArbitrary(ids).map((agent) => ({ kind: "put" as const, agent })) },
      { weight: 5, arbitrary: fc.record({ id: fc.constantFrom(...ids), seed: fc.nat() }).map((s) => ({ kind: "change" as const, ...s })) },
      { weight: 1, arbitrary: fc.constantFrom(...ids).map((id) => ({ kind: "delete" as const, id })) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const pool = new AgentPool();
        for (const s of steps) {
          if (s.kind === "put") pool.put(s.agent);
          else if (s.kind === "delete") pool.delete(s.id);
          else {
            const current = pool.get(s.id);
            if (current) pool.put(loadChange(current, s.seed));
          }
        }
        const rebuilt = new AgentPool();
        for (const agent of [...pool.all()]) rebuilt.put(agent);
        expect(view(pool)).toEqual(view(rebuilt));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the pooled object of an agent whose groups and languages stay, with its state updated", () => {
    const pool = new AgentPool();
    const agent: AgentState = {
      id: "a1",
      name: "A",
      groups: ["g1"],
      languages: ["en"],
      skills: {},
      capacity: { chat: 1 },
      load: {},
      reserved: {},
      presence: "available",
      presenceChangedAt: 0,
      idleSince: 0,
    };
    pool.put(agent);
    const before = pool.pooled("a1");
    expect(pool.free("g1", "en", "chat").size).toBe(1);
    pool.put({ ...agent, load: { chat: 1 } });
    expect(pool.pooled("a1")).toBe(before);
    expect(pool.pooled("a1")?.state.load.chat).toBe(1);
    expect(pool.free("g1", "en", "chat").size).toBe(0);
    pool.put({ ...agent, groups: ["g2"] });
    expect(pool.pooled("a1")).not.toBe(before);
    expect(pool.members("g1").size).toBe(0);
    expect(pool.free("g2", null, "chat").size).toBe(1);
  });
});
