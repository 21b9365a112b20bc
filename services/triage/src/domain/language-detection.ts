// Which language the customer wrote in (ISO 639-1), so the ticket goes to someone who can answer in it.
// Script evidence decides where it can; a statistical detector decides the rest; weak answers fall back
// to the subject line and then to the language the customer is known to use.

import { judgeLanguageByScript, profileScripts } from "./script-detection.ts";

/** One language's score from a statistical detector; higher is more likely. */
export interface LanguageScore {
  readonly language: string;
  readonly score: number;
}

/** A statistical language detector: scores for the languages it considers, best first. Pure. */
export interface LanguageScorer {
  readonly name: string;
  scoreLanguages(text: string): readonly LanguageScore[];
}

/** One text's language with the evidence for it. */
export interface LanguageGuess {
  readonly language: string;
  /** 0..1: how sure; script evidence is near 1, a near tie between two languages near 0. */
  readonly confidence: number;
  readonly reason: string;
}

export type LanguageSource = "text" | "subject" | "customer" | "default";

export interface LanguageDecision {
  readonly language: string;
  readonly confidence: number;
  /** Which input the language was taken from. */
  readonly source: LanguageSource;
  readonly reasons: readonly string[];
}

export interface LanguageDetectionInput {
  /** The customer's new text (quoted history and signature already removed). */
  readonly text: string;
  readonly subject?: string | undefined;
  /** The language the channel integration or CRM knows for this customer, ISO 639-1. */
  readonly customerLanguage?: string | undefined;
}

export interface LanguageDetectionOptions {
  /** Below this a guess is not trusted and the next source is tried. */
  readonly minConfidence: number;
  /** Languages the organisation routes; the detector chooses among these only. Empty: any it knows. */
  readonly supportedLanguages: readonly string[];
  /** Used when no source gives any language at all (empty text, no subject, unknown customer). */
  readonly defaultLanguage: string;
}

/** A text needs this many letters before a statistical detector's margin means much. */
const LETTERS_FOR_FULL_CONFIDENCE = 24;
/** A lead of this fraction of the winner's score over the runner-up counts as a clear win. */
const CLEAR_RELATIVE_MARGIN = 0.12;

/**
 * The language of one text, or undefined when nothing in it says anything (no letters, or the detector
 * knows none of the supported languages in it).
 */
export function guessLanguage(text: string, scorer: LanguageScorer, supportedLanguages: readonly string[] = []): LanguageGuess | undefined {
  const profile = profileScripts(text);
  if (profile.letters === 0) return undefined;
  const verdict = judgeLanguageByScript(text, profile);
  if (verdict.kind === "decided")
    return {
      language: verdict.language,
      confidence: round(verdict.confidence),
      reason: verdict.reason,
    };

  const candidates = verdict.kind === "narrowed" ? verdict.candidates : supportedLanguages;
  const scores = scorer.scoreLanguages(text).filter((entry) => entry.score > 0 && (candidates.length === 0 || candidates.includes(entry.language)));
  const [best, runnerUp] = scores;
  if (best === undefined) {
    return verdict.kind === "narrowed" && verdict.candidates[0] !== undefined
      ? {
          language: verdict.candidates[0],
          confidence: 0.3,
          reason: `${verdict.reason}, detector undecided`,
        }
      : undefined;
  }
  const confidence = statisticalConfidence(best.score, runnerUp?.score ?? 0, profile.letters);
  const runnerUpNote = runnerUp === undefined ? "" : ` over ${runnerUp.language}`;
  const via = verdict.kind === "narrowed" ? `${verdict.reason}; ` : "";
  return {
    language: best.language,
    confidence: round(confidence),
    reason: `${via}${scorer.name}: ${best.language}${runnerUpNote}`,
  };
}

/** The winner's relative lead, discounted for short texts where n-gram statistics are thin. */
function statisticalConfidence(best: number, runnerUp: number, letters: number): number {
  const relativeMargin = best <= 0 ? 0 : (best - runnerUp) / best;
  const marginScore = Math.min(1, relativeMargin / CLEAR_RELATIVE_MARGIN);
  const lengthScore = Math.min(1, letters / LETTERS_FOR_FULL_CONFIDENCE);
  return marginScore * (0.4 + 0.6 * lengthScore);
}

/**
 * The ticket's language: the new text when the guess is confident, else the subject, else the customer's
 * known language, else the best weak guess, else the default. Total; reasons say which source won and why.
 */
export function detectLanguage(input: LanguageDetectionInput, scorer: LanguageScorer, options: LanguageDetectionOptions): LanguageDecision {
  const reasons: string[] = [];
  const fromText = guessLanguage(input.text, scorer, options.supportedLanguages);
  if (fromText !== undefined && fromText.confidence >= options.minConfidence) {
    return {
      language: fromText.language,
      confidence: fromText.confidence,
      source: "text",
      reasons: [`language ${fromText.language} from the message (${fromText.reason})`],
    };
  }
  if (fromText !== undefined) reasons.push(`message language unsure (${fromText.language} at ${fromText.confidence})`);

  const subject = input.subject?.trim() ?? "";
  const fromSubject = subject === "" ? undefined : guessLanguage(subject, scorer, options.supportedLanguages);
  if (fromSubject !== undefined && fromSubject.confidence >= options.minConfidence) {
    reasons.push(`language ${fromSubject.language} from the subject (${fromSubject.reason})`);
    return {
      language: fromSubject.language,
      confidence: fromSubject.confidence,
      source: "subject",
      reasons,
    };
  }
  if (fromSubject !== undefined) reasons.push(`subject language unsure (${fromSubject.language} at ${fromSubject.confidence})`);

  const customerLanguage = normalizeLanguageCode(input.customerLanguage);
  if (customerLanguage !== undefined) {
    // Agreeing weak evidence makes the known language surer; the customer's record alone is a fair guess.
    const agreeing = [fromText, fromSubject].filter((guess) => guess?.language === customerLanguage);
    const confidence = round(Math.min(1, options.minConfidence + 0.1 * agreeing.length));
    reasons.push(`language ${customerLanguage} from the customer's profile`);
    return {
      language: customerLanguage,
      confidence,
      source: "customer",
      reasons,
    };
  }

  const weakGuesses = [fromText, fromSubject].filter((guess): guess is LanguageGuess => guess !== undefined);
  const bestWeak = weakGuesses.sort((a, b) => b.confidence - a.confidence)[0];
  if (bestWeak !== undefined) {
    const source: LanguageSource = bestWeak === fromText ? "text" : "subject";
    reasons.push(`language ${bestWeak.language} kept as the best weak guess`);
    return {
      language: bestWeak.language,
      confidence: bestWeak.confidence,
      source,
      reasons,
    };
  }
  reasons.push(`no language evidence, default ${options.defaultLanguage}`);
  return {
    language: options.defaultLanguage,
    confidence: 0,
    source: "default",
    reasons,
  };
}

/** "pt-BR", "PT", " pt " → "pt"; anything that is not a two-letter code → undefined. */
export function normalizeLanguageCode(code: string | undefined): string | undefined {
  const primary = code?.trim().toLowerCase().split(/[-_]/)[0] ?? "";
  return /^[a-z]{2}$/.test(primary) ? primary : undefined;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
