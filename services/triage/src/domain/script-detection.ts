// Writing-system evidence for language detection: some scripts name their language outright (Hangul is
// Korean, Hebrew letters are Hebrew), and a few letters settle Arabic vs Persian and Russian vs Ukrainian
// where statistical detectors hesitate on short texts.

export type Script = "latin" | "cyrillic" | "greek" | "arabic" | "hebrew" | "devanagari" | "hangul" | "kana" | "han" | "thai" | "other";

export interface ScriptProfile {
  /** Letters counted per script (digits, punctuation and symbols are not letters). */
  readonly counts: Readonly<Record<Script, number>>;
  readonly letters: number;
  /** The script with most letters, or undefined for a text without letters. */
  readonly dominant: Script | undefined;
  /** dominant's share of all letters, 0..1. */
  readonly dominantShare: number;
}

/** What the script alone says about the language. */
export type ScriptVerdict =
  /** The script (or its distinctive letters) names one language. */
  | {
      readonly kind: "decided";
      readonly language: string;
      readonly confidence: number;
      readonly reason: string;
    }
  /** The script narrows the choice; a statistical detector should pick among these. */
  | {
      readonly kind: "narrowed";
      readonly candidates: readonly string[];
      readonly reason: string;
    }
  /** Latin, mixed or letterless text: the script says nothing useful. */
  | { readonly kind: "open" };

const PERSIAN_ONLY_LETTERS = /[پچژگ]/gu;
/** Persian keyboards write yeh and kaf as ی (U+06CC) and ک (U+06A9); Arabic ones as ي (U+064A) and ك (U+0643). */
const PERSIAN_FORMS = /[یک]/gu;
const ARABIC_FORMS = /[يكةى]/gu;
const UKRAINIAN_ONLY_LETTERS = /[іїєґІЇЄҐ]/gu;
const RUSSIAN_ONLY_LETTERS = /[ыэъёЫЭЪЁ]/gu;

/** The share of letters a script needs before it decides the language of a text that mixes scripts. */
const DOMINANCE_FOR_DECISION = 0.5;
/** Han-only texts this long are taken as Chinese with full confidence (Japanese prose this long has kana). */
const SURE_HAN_ONLY_LENGTH = 12;

function scriptOf(codePoint: number): Script | undefined {
  if (codePoint < 0x80) {
    return (codePoint >= 0x41 && codePoint <= 0x5a) || (codePoint >= 0x61 && codePoint <= 0x7a) ? "latin" : undefined;
  }
  if (codePoint >= 0x00c0 && codePoint <= 0x024f) return codePoint === 0xd7 || codePoint === 0xf7 ? undefined : "latin";
  if (codePoint >= 0x1e00 && codePoint <= 0x1eff) return "latin";
  if (codePoint >= 0x0370 && codePoint <= 0x03ff) return "greek";
  if (codePoint >= 0x0400 && codePoint <= 0x052f) return "cyrillic";
  if (codePoint >= 0x0590 && codePoint <= 0x05ff) return codePoint >= 0x05d0 ? "hebrew" : undefined;
  if ((codePoint >= 0x0600 && codePoint <= 0x06ff) || (codePoint >= 0x0750 && codePoint <= 0x077f) || (codePoint >= 0xfb50 && codePoint <= 0xfeff)) {
    return isArabicLetter(codePoint) ? "arabic" : undefined;
  }
  if (codePoint >= 0x0900 && codePoint <= 0x097f) return codePoint >= 0x0964 && codePoint <= 0x096f ? undefined : "devanagari";
  if (codePoint >= 0x0e00 && codePoint <= 0x0e7f) return "thai";
  if ((codePoint >= 0x1100 && codePoint <= 0x11ff) || (codePoint >= 0x3130 && codePoint <= 0x318f) || (codePoint >= 0xac00 && codePoint <= 0xd7af)) {
    return "hangul";
  }
  if ((codePoint >= 0x3041 && codePoint <= 0x309f) || (codePoint >= 0x30a0 && codePoint <= 0x30ff) || (codePoint >= 0xff66 && codePoint <= 0xff9f)) {
    return codePoint === 0x30fb ? undefined : "kana";
  }
  if (
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0x20000 && codePoint <= 0x2fa1f)
  ) {
    return "han";
  }
  return /\p{L}/u.test(String.fromCodePoint(codePoint)) ? "other" : undefined;
}

function isArabicLetter(codePoint: number): boolean {
  // Arabic-Indic digits, punctuation (، ؛ ؟) and harakat are not letters.
  if (codePoint >= 0x0660 && codePoint <= 0x0669) return false;
  if (codePoint >= 0x06f0 && codePoint <= 0x06f9) return false;
  if (codePoint === 0x060c || codePoint === 0x061b || codePoint === 0x061f || codePoint === 0x066a) return false;
  if (codePoint >= 0x064b && codePoint <= 0x065f) return false;
  return true;
}

const EMPTY_COUNTS: Readonly<Record<Script, number>> = {
  latin: 0,
  cyrillic: 0,
  greek: 0,
  arabic: 0,
  hebrew: 0,
  devanagari: 0,
  hangul: 0,
  kana: 0,
  han: 0,
  thai: 0,
  other: 0,
};

export function profileScripts(text: string): ScriptProfile {
  const counts: Record<Script, number> = { ...EMPTY_COUNTS };
  let letters = 0;
  for (const character of text) {
    const script = scriptOf(character.codePointAt(0) ?? 0);
    if (script === undefined) continue;
    counts[script]++;
    letters++;
  }
  let dominant: Script | undefined;
  let best = 0;
  for (const script of Object.keys(counts) as Script[]) {
    if (counts[script] > best) {
      best = counts[script];
      dominant = script;
    }
  }
  return {
    counts,
    letters,
    dominant,
    dominantShare: letters === 0 ? 0 : best / letters,
  };
}

function countMatches(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/**
 * What the writing system says about a text's language. Japanese is recognised by kana (Han characters
 * alone are read as Chinese: a kana-less Japanese text is rare and the detector cannot do better either).
 */
export function judgeLanguageByScript(text: string, profile: ScriptProfile = profileScripts(text)): ScriptVerdict {
  const { counts, letters } = profile;
  if (letters === 0) return { kind: "open" };
  const cjk = counts.han + counts.kana;
  // Japanese mixes Han and kana; a few Latin words (product names) are common in any script.
  if (counts.kana > 0 && cjk / letters >= DOMINANCE_FOR_DECISION) {
    return {
      kind: "decided",
      language: "ja",
      confidence: confidenceFromShare(cjk / letters),
      reason: "kana in the text",
    };
  }
  if (counts.hangul / letters >= DOMINANCE_FOR_DECISION) {
    return {
      kind: "decided",
      language: "ko",
      confidence: confidenceFromShare(counts.hangul / letters),
      reason: "Hangul script",
    };
  }
  if (counts.han / letters >= DOMINANCE_FOR_DECISION) {
    // A few Han characters could as well be a Japanese subject line ("請求"): short Han-only text is less sure.
    const lengthFactor = Math.min(1, 0.5 + counts.han / SURE_HAN_ONLY_LENGTH);
    return {
      kind: "decided",
      language: "zh",
      confidence: lengthFactor * confidenceFromShare(counts.han / letters),
      reason: "Han characters without kana",
    };
  }
  if (counts.hebrew / letters >= DOMINANCE_FOR_DECISION) {
    return {
      kind: "decided",
      language: "he",
      confidence: confidenceFromShare(counts.hebrew / letters),
      reason: "Hebrew script",
    };
  }
  if (counts.devanagari / letters >= DOMINANCE_FOR_DECISION) {
    // Marathi and Nepali share Devanagari but are not among the languages we route; Hindi is the one we serve.
    return {
      kind: "decided",
      language: "hi",
      confidence: confidenceFromShare(counts.devanagari / letters),
      reason: "Devanagari script",
    };
  }
  if (counts.arabic / letters >= DOMINANCE_FOR_DECISION) return judgeArabicScript(text, counts.arabic / letters);
  if (counts.cyrillic / letters >= DOMINANCE_FOR_DECISION) return judgeCyrillicScript(text, counts.cyrillic / letters);
  return { kind: "open" };
}

function judgeArabicScript(text: string, share: number): ScriptVerdict {
  const persianOnly = countMatches(text, PERSIAN_ONLY_LETTERS);
  const persianForms = countMatches(text, PERSIAN_FORMS);
  const arabicForms = countMatches(text, ARABIC_FORMS);
  if (persianOnly > 0 && arabicForms <= persianOnly + persianForms) {
    return {
      kind: "decided",
      language: "fa",
      confidence: confidenceFromShare(share),
      reason: "Persian letters (پ چ ژ گ)",
    };
  }
  if (persianForms > arabicForms) {
    return {
      kind: "decided",
      language: "fa",
      confidence: 0.9 * confidenceFromShare(share),
      reason: "Persian letter forms (ی ک)",
    };
  }
  if (arabicForms > 0 && persianOnly === 0 && persianForms === 0) {
    return {
      kind: "decided",
      language: "ar",
      confidence: 0.9 * confidenceFromShare(share),
      reason: "Arabic letter forms (ي ك ة ى)",
    };
  }
  return {
    kind: "narrowed",
    candidates: ["ar", "fa"],
    reason: "Arabic script",
  };
}

/** Frequent words that exist in only one of the two languages; they settle short texts without telling letters. */
const UKRAINIAN_ONLY_WORDS = new Set([
  "дякую",
  "будь",
  "ласка",
  "що",
  "як",
  "це",
  "вже",
  "мені",
  "ще",
  "але",
  "щоб",
  "немає",
  "коли",
  "чому",
  "добрий",
  "або",
  "треба",
  "зараз",
  "досі",
  "ви",
  "ваш",
  "ваше",
  "мій",
  "моє",
  "мою",
]);
const RUSSIAN_ONLY_WORDS = new Set([
  "спасибо",
  "пожалуйста",
  "что",
  "как",
  "это",
  "уже",
  "мне",
  "но",
  "чтобы",
  "нет",
  "когда",
  "почему",
  "здравствуйте",
  "добрый",
  "или",
  "надо",
  "сейчас",
  "вы",
  "ваш",
  "мой",
  "моё",
  "мою",
  "сих",
  "пор",
]);
const CYRILLIC_WORD = /[\p{Script=Cyrillic}]+/gu;

function countDistinctiveWords(text: string): {
  ukrainian: number;
  russian: number;
} {
  let ukrainian = 0;
  let russian = 0;
  for (const match of text.toLowerCase().matchAll(CYRILLIC_WORD)) {
    const inUkrainian = UKRAINIAN_ONLY_WORDS.has(match[0]);
    const inRussian = RUSSIAN_ONLY_WORDS.has(match[0]);
    if (inUkrainian && !inRussian) ukrainian++;
    if (inRussian && !inUkrainian) russian++;
  }
  return { ukrainian, russian };
}

function judgeCyrillicScript(text: string, share: number): ScriptVerdict {
  const words = countDistinctiveWords(text);
  // A distinctive word weighs like a distinctive letter.
  const ukrainian = countMatches(text, UKRAINIAN_ONLY_LETTERS) + words.ukrainian;
  const russian = countMatches(text, RUSSIAN_ONLY_LETTERS) + words.russian;
  if (ukrainian > 0 && russian === 0) {
    return {
      kind: "decided",
      language: "uk",
      confidence: confidenceFromShare(share),
      reason: "Ukrainian letters (і ї є ґ)",
    };
  }
  if (russian > 0 && ukrainian === 0) {
    return {
      kind: "decided",
      language: "ru",
      confidence: confidenceFromShare(share),
      reason: "Russian letters (ы э ъ ё)",
    };
  }
  return {
    kind: "narrowed",
    candidates: ["ru", "uk"],
    reason: "Cyrillic script",
  };
}

/** A text that is entirely in one script is certain; Latin product names in it lower confidence a little. */
function confidenceFromShare(share: number): number {
  return Math.min(1, 0.6 + 0.4 * ((share - DOMINANCE_FOR_DECISION) / (1 - DOMINANCE_FOR_DECISION)));
}
