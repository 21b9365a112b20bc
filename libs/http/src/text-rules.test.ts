// The shared text rules: each check agrees with its JSON-schema fragment as fastify's validator (ajv)
// applies it, so a route schema and a domain validator cannot drift apart.
import { describe, expect, it } from "vitest";
import Fastify from "fastify";
import { TextRules, type TextRule } from "./text-rules.ts";

const cases: Array<[string, TextRule, string[], string[]]> = [
  ["id", TextRules.id, ["a1", "agent.one", "x:y@z-1_2", "a".repeat(128)], ["", "a b", "a/b", "ä", "a".repeat(129), "a\u0000"]],
  ["name", TextRules.name, ["Ana", "Zoë O'Brien", "名前", "a.b $x", "n".repeat(200)], ["", "a\u0000b", "tab\there", "line\nbreak", "del\u007f", "n".repeat(201)]],
  ["skillName", TextRules.skillName, ["billing", "lang-en", "a$b", "__proto__", "s".repeat(100)], ["", "a.b", "$x", "\u0000", "bell\u0007", "s".repeat(101)]],
  ["groupName", TextRules.groupName, ["billing", "tier 2"], ["", "a.b", "$g", "g\u0000"]],
  ["language", TextRules.language, ["en", "de"], ["", "EN", "eng", "e1"]],
  ["freeText(10)", TextRules.freeText(10), ["", "hi\nthere", "ok\tx"], ["nul\u0000", "x".repeat(11)]],
];

describe("text rules", () => {
  it.each(cases)("%s: the check accepts and refuses what it should", (_name, rule, good, bad) => {
    for (const v of good) expect(rule.check(v), JSON.stringify(v)).toBeUndefined();
    for (const v of bad) expect(rule.check(v), JSON.stringify(v)).toMatch(/must/);
  });

  it.each(cases)("%s: fastify's validator agrees with the check", async (_name, rule, good, bad) => {
    const app = Fastify();
    app.post("/", { schema: { body: { type: "object", required: ["v"], properties: { v: rule.schema } } } }, async () => ({ ok: true }));
    for (const v of [...good, ...bad]) {
      const res = await app.inject({ method: "POST", url: "/", payload: { v } });
      expect(res.statusCode === 200, JSON.stringify(v)).toBe(rule.check(v) === undefined);
    }
    await app.close();
  });

  it("counts characters as code points, as JSON schema does", () => {
    expect(TextRules.skillName.check("😀".repeat(100))).toBeUndefined();
    expect(TextRules.skillName.check("😀".repeat(101))).toMatch(/at most 100/);
  });
});
