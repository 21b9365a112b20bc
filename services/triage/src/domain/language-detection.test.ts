import { describe, expect, it } from "vitest";
import { eldLanguageScorer } from "./eld-language-scorer.ts";
import { detectLanguage, guessLanguage, normalizeLanguageCode, type LanguageScorer } from "./language-detection.ts";

const SUPPORTED = "en es fr de it pt nl pl hu cs ro sv tr ru uk ar he fa zh ja ko hi".split(" ");
const OPTIONS = {
  minConfidence: 0.5,
  supportedLanguages: SUPPORTED,
  defaultLanguage: "en",
};

/** A scorer that answers from a table, so fallbacks can be tested without a real detector's quirks. */
function tableScorer(table: Record<string, Record<string, number>>): LanguageScorer {
  return {
    name: "table",
    scoreLanguages: (text) =>
      Object.entries(table[text] ?? {})
        .map(([language, score]) => ({ language, score }))
        .sort((a, b) => b.score - a.score),
  };
}

const LONG_GERMAN = "Die Rechnung wurde doppelt abgebucht, bitte prüfen";
const SHORT_AMBIGUOUS = "Hola";

describe("detectLanguage fallbacks", () => {
  const scorer = tableScorer({
    [LONG_GERMAN]: { de: 0.8, nl: 0.5 },
    [SHORT_AMBIGUOUS]: { es: 0.68, pt: 0.67 },
    "Rechnung doppelt abgebucht erhalten": { de: 0.8, nl: 0.55 },
  });

  it("takes a confident guess from the message text", () => {
    const decision = detectLanguage({ text: LONG_GERMAN, subject: "", customerLanguage: "fr" }, scorer, OPTIONS);
    expect(decision).toMatchObject({ language: "de", source: "text" });
    expect(decision.confidence).toBeGreaterThanOrEqual(0.5);
  });

  it("falls back to the subject when the message text is unsure", () => {
    const decision = detectLanguage(
      {
        text: SHORT_AMBIGUOUS,
        subject: "Rechnung doppelt abgebucht erhalten",
        customerLanguage: "fr",
      },
      scorer,
      OPTIONS,
    );
    expect(decision).toMatchObject({ language: "de", source: "subject" });
    expect(decision.reasons.join(" ")).toContain("message language unsure");
  });

  it("falls back to the customer's known language when text and subject are unsure", () => {
    const decision = detectLanguage(
      {
        text: SHORT_AMBIGUOUS,
        subject: SHORT_AMBIGUOUS,
        customerLanguage: "pt-BR",
      },
      scorer,
      OPTIONS,
    );
    expect(decision).toMatchObject({ language: "pt", source: "customer" });
  });

  it("keeps the best weak guess when nothing better is known", () => {
    expect(detectLanguage({ text: SHORT_AMBIGUOUS }, scorer, OPTIONS)).toMatchObject({ language: "es", source: "text" });
  });

  it("uses the default language when there is no evidence at all", () => {
    expect(detectLanguage({ text: "12345 !!!", subject: "" }, scorer, OPTIONS)).toMatchObject({ language: "en", source: "default", confidence: 0 });
  });

  it("decides by script before asking the detector", () => {
    const decision = detectLanguage({ text: "로그인이 안 됩니다" }, tableScorer({}), OPTIONS);
    expect(decision).toMatchObject({ language: "ko", source: "text" });
  });

  it("chooses only among ru and uk for Cyrillic, whatever else the detector prefers", () => {
    const guess = guessLanguage("Доставка", tableScorer({ Доставка: { sr: 0.85, bg: 0.84, ru: 0.83, uk: 0.5 } }), SUPPORTED);
    expect(guess?.language).toBe("ru");
  });

  it("chooses only among supported languages", () => {
    const guess = guessLanguage(LONG_GERMAN, tableScorer({ [LONG_GERMAN]: { da: 0.9, de: 0.8 } }), SUPPORTED);
    expect(guess?.language).toBe("de");
  });

  it("is less confident on a near tie than on a clear win", () => {
    const tie = guessLanguage(LONG_GERMAN, tableScorer({ [LONG_GERMAN]: { de: 0.8, nl: 0.79 } }), SUPPORTED);
    const clear = guessLanguage(LONG_GERMAN, tableScorer({ [LONG_GERMAN]: { de: 0.8, nl: 0.5 } }), SUPPORTED);
    expect(tie!.confidence).toBeLessThan(clear!.confidence);
  });
});

describe("detectLanguage with eld", () => {
  it.each([
    ["I cannot log in to my account since this morning", "en"],
    ["Mi pedido lleva diez días de retraso y nadie me responde", "es"],
    ["Je souhaite résilier mon abonnement à la fin du mois", "fr"],
    ["Auf meiner Rechnung wurde der Betrag doppelt abgebucht", "de"],
    ["Aplikacja nie działa od wczoraj, pokazuje błąd przy logowaniu", "pl"],
    ["Jag har skickat tillbaka varan men inte fått någon återbetalning", "sv"],
    ["Aboneliğimi iptal etmek istiyorum, lütfen yardımcı olun", "tr"],
    ["Sunt foarte nemulțumit de calitatea produsului", "ro"],
  ])("recognises %s", (text, language) => {
    expect(detectLanguage({ text }, eldLanguageScorer, OPTIONS).language).toBe(language);
  });
});

describe("normalizeLanguageCode", () => {
  it("reduces locales to ISO 639-1 and rejects anything else", () => {
    expect(normalizeLanguageCode(" PT-br ")).toBe("pt");
    expect(normalizeLanguageCode("zh_Hant")).toBe("zh");
    expect(normalizeLanguageCode("english")).toBeUndefined();
    expect(normalizeLanguageCode(undefined)).toBeUndefined();
  });
});
