// The statistical language detector: eld ("efficient language detector"), chosen by measurement on our
// dataset (services/triage/model/README.md). Its n-gram database ships in the npm package; nothing is
// downloaded at run time. The medium database loads in about half a second and ~65 MB of heap.

import { eld as eldMedium } from "eld/medium";
import type { LanguageScore, LanguageScorer } from "./language-detection.ts";

/** Like eld's own option: removes URLs, e-mail addresses and other non-language tokens before scoring. */
const detector = eldMedium.newInstance();
detector.enableTextCleanup(true);

export const eldLanguageScorer: LanguageScorer = {
  name: "eld",
  scoreLanguages(text: string): readonly LanguageScore[] {
    const scores = detector.detect(text).getScores();
    return Object.entries(scores)
      .map(([language, score]) => ({ language, score }))
      .sort((a, b) => b.score - a.score || a.language.localeCompare(b.language));
  },
};
