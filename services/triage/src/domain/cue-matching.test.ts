import { describe, expect, it } from "vitest";
import { compileCueIndex, findCues, foldForMatching, groupCueMatches } from "./cue-matching.ts";

const index = compileCueIndex([
  { category: "urgency:high", cues: ["urgent", "cannot log in", "down$"] },
  { category: "urgency:low", cues: ["not urgent"] },
  {
    category: "concept:refund",
    cues: ["refund", "*erstattung", "退款", "החזר"],
  },
  { category: "concept:billing", cues: ["factura"] },
]);

function categories(text: string): string[] {
  return [...groupCueMatches(findCues(index, text)).keys()].sort();
}

describe("cue matching", () => {
  it("matches at word starts, case- and accent-insensitively, as stems", () => {
    expect(categories("I was REFUNDED twice")).toEqual(["concept:refund"]);
    expect(categories("la FACTURA está mal")).toEqual(["concept:billing"]);
    expect(categories("prefund")).toEqual([]);
  });

  it("honours $ as a word end", () => {
    expect(categories("the site is down")).toEqual(["urgency:high"]);
    expect(categories("the download is slow")).toEqual([]);
  });

  it("matches * cues inside words (German compounds)", () => {
    expect(categories("Die Rückerstattung fehlt")).toEqual(["concept:refund"]);
  });

  it("matches anywhere in scripts without spaces or with attached prefixes", () => {
    expect(categories("我想申请退款。")).toEqual(["concept:refund"]);
    expect(categories("מתי אקבל את ההחזר?")).toEqual(["concept:refund"]);
  });

  it("lets a longer cue of the same family win over a shorter one it covers", () => {
    expect(categories("this is not urgent")).toEqual(["urgency:low"]);
    expect(categories("urgent: cannot log in")).toEqual(["urgency:high"]);
  });

  it("folds accents and compatibility forms", () => {
    expect(foldForMatching("Ｃafé ÉTÉ")).toBe("cafe ete");
  });
});
