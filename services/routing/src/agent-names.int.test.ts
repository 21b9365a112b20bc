// Names agents choose (skills, groups) against the real store: they are values in the stored document,
// never field names, so no name can turn into a store path or operator; and what the store refuses is
// reported as the caller's mistake (400) or a conflict (409), never as contention (503).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyStoreError, connectStore, type Store } from "@steward/store";
import { bearer, isolatedEnv, tokens } from "@steward/testkit";
import { loadRoutingConfig } from "./config.ts";
import { RoutingStore, skillsOf, type AgentDoc } from "./routing-store.ts";
import { startRouting, type RunningRouting } from "./service.ts";

const t = isolatedEnv("agent-names");
let routing: RunningRouting;
let conn: Store;
let store: RoutingStore;

beforeAll(async () => {
  routing = await startRouting(loadRoutingConfig(t.env));
  conn = await connectStore(t.mongoUri, t.database);
  store = new RoutingStore(conn.db);
});

afterAll(async () => {
  await routing?.close();
  await conn?.close();
});

const profile = (skills: Record<string, number>, groups = ["billing"]) => ({ name: "Ana", groups, skills, languages: ["en"], capacity: { email: 2 } });

async function putAgent(id: string, body: unknown): Promise<{ status: number; body: { error?: { code: string; message: string }; skills?: Record<string, number> } }> {
  const res = await fetch(`${routing.httpUrl}/v1/agents/${id}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(await bearer(tokens.admin())) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as never };
}

describe("agent names and the store", () => {
  it.each([["a.b"], ["$x"], ["\u0000"], ["with\u0007bell"]])("refuses the skill name %j as invalid input, not contention", async (skill) => {
    const res = await putAgent("a1", profile({ [skill]: 6 }));
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe("VALIDATION_FAILED");
  });

  it.each([["a.b"], ["$g"]])("refuses the group name %j as invalid input", async (group) => {
    const res = await putAgent("a2", profile({ billing: 5 }, [group]));
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe("VALIDATION_FAILED");
  });

  it("stores skills as a list and answers with the same JSON shape", async () => {
    const res = await putAgent("a3", profile({ billing: 6, "lang-en": 8, constructor: 3, "a$b c": 2 }));
    expect(res.status).toBe(200);
    expect(res.body.skills).toEqual({ billing: 6, "lang-en": 8, constructor: 3, "a$b c": 2 });
    const raw = await conn.db.collection("routing_agents").findOne({ _id: "a3" as never });
    expect(raw?.["skills"]).toEqual([
      { name: "billing", level: 6 },
      { name: "lang-en", level: 8 },
      { name: "constructor", level: 3 },
      { name: "a$b c", level: 2 },
    ]);
    const again = await fetch(`${routing.httpUrl}/v1/agents/a3`, { headers: await bearer(tokens.admin()) });
    expect(((await again.json()) as { skills: unknown }).skills).toEqual({ billing: 6, "lang-en": 8, constructor: 3, "a$b c": 2 });
  });

  it("keeps reading agents stored with the earlier name -> level object, and rewrites them as a list", async () => {
    const now = Date.now();
    const legacy: AgentDoc = {
      _id: "old",
      version: 1,
      name: "Old",
      groups: ["billing"],
      skills: { billing: 4 },
      languages: ["en"],
      capacity: { email: 1 },
      free: { email: 1 },
      holds: {},
      presence: "offline",
      presenceChangedAt: now,
      idleSince: now,
      createdAt: now,
      updatedAt: now,
    };
    await store.agents.insertOne(legacy);
    const read = await fetch(`${routing.httpUrl}/v1/agents/old`, { headers: await bearer(tokens.admin()) });
    expect(((await read.json()) as { skills: unknown }).skills).toEqual({ billing: 4 });
    expect((await putAgent("old", profile({ billing: 5 }))).status).toBe(200);
    const stored = await store.getAgent("old");
    expect(stored && skillsOf(stored)).toEqual({ billing: 5 });
    expect(Array.isArray(stored?.skills)).toBe(true);
  });

  it("classifies what the real store refuses: duplicate keys, names it cannot hold", async () => {
    const c = conn.db.collection<Record<string, unknown>>("refusals");
    await c.insertOne({ _id: "k" as never });
    const dup = await c.insertOne({ _id: "k" as never }).catch((e: unknown) => e);
    expect(classifyStoreError(dup)).toMatchObject({ kind: "conflict", code: "STORE_CONFLICT", statusCode: 409 });
    const nul = await c.insertOne({ _id: "n" as never, ["a\u0000b"]: 1 }).catch((e: unknown) => e);
    expect(classifyStoreError(nul)).toMatchObject({ kind: "invalid", code: "STORE_INVALID_DOCUMENT", statusCode: 400 });
    const dollar = await c.updateOne({ _id: "k" as never }, { $set: { $x: 1 } }).catch((e: unknown) => e);
    expect(classifyStoreError(dollar)).toMatchObject({ kind: "invalid", statusCode: 400 });
  });
});
