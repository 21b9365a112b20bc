// Turns a message into the sparse features the intent model reads: character n-grams (they work in every
// script, including Chinese and Japanese where there are no spaces), word unigrams, and multilingual
// lexicon concepts (one feature per intent hint, shared by all languages, so what the model learns from
// a Spanish refund request helps a Polish one).

export interface FeatureOptions {
  /** Character n-gram lengths inside words of space-separated scripts, e.g. 1..4. */
  readonly charNgramMin: number;
  readonly charNgramMax: number;
  /** Character n-gram lengths over runs of Han, kana and Thai, where there are no word boundaries. */
  readonly unsegmentedNgramMin: number;
  readonly unsegmentedNgramMax: number;
  readonly wordUnigrams: boolean;
  /** Relative weights of the three feature blocks (each block is normalised to unit length first). */
  readonly charWeight: number;
  readonly wordWeight: number;
  readonly conceptWeight: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  charNgramMin: 1,
  charNgramMax: 4,
  unsegmentedNgramMin: 1,
  unsegmentedNgramMax: 3,
  wordUnigrams: true,
  charWeight: 1,
  wordWeight: 1,
  conceptWeight: 1.5,
};

/** Feature name → value. */
export type FeatureVector = Map<string, number>;

const URL_PATTERN = /\b(?:https?:\/\/|www\.)\S+/gu;
const EMAIL_PATTERN = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.\p{L}{2,}/gu;
const WORD_PATTERN = /[\p{L}\p{M}]+/gu;
const SURROGATE = /[\ud800-\udfff]/;
const UNSEGMENTED = /[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/u;

/**
 * Sparse features of a text that was folded with foldForMatching, given the lexicon concepts found in it.
 * Block values are log(1 + count), scaled to unit length per block, times the block weight.
 */
export function extractFeatures(foldedText: string, concepts: readonly string[], options: FeatureOptions = DEFAULT_FEATURE_OPTIONS): FeatureVector {
  const chars = new Map<string, number>();
  const words = new Map<string, number>();
  const cleaned = foldedText.replace(URL_PATTERN, " ").replace(EMAIL_PATTERN, " ");
  for (const match of cleaned.matchAll(WORD_PATTERN)) {
    const word = match[0];
    if (UNSEGMENTED.test(word)) {
      addNgrams(chars, `\u0002${word}\u0003`, options.unsegmentedNgramMin, options.unsegmentedNgramMax);
      continue;
    }
    addNgrams(chars, ` ${word} `, options.charNgramMin, options.charNgramMax);
    if (options.wordUnigrams) increment(words, `w:${word}`);
  }
  const conceptCounts = new Map<string, number>();
  for (const concept of concepts) increment(conceptCounts, `k:${concept}`);

  const features: FeatureVector = new Map();
  addBlock(features, chars, options.charWeight);
  addBlock(features, words, options.wordWeight);
  addBlock(features, conceptCounts, options.conceptWeight);
  return features;
}

function addNgrams(counts: Map<string, number>, padded: string, min: number, max: number): void {
  // Astral characters (rare Han) take two UTF-16 units; split by code point only when they occur.
  const units: string | readonly string[] = SURROGATE.test(padded) ? Array.from(padded) : padded;
  for (let size = min; size <= max; size++) {
    for (let start = 0; start + size <= units.length; start++) {
      const gram = typeof units === "string" ? units.slice(start, start + size) : units.slice(start, start + size).join("");
      // A lone boundary marker says nothing.
      if (size === 1 && (gram === " " || gram === "\u0002" || gram === "\u0003")) continue;
      increment(counts, gram);
    }
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function addBlock(features: FeatureVector, counts: ReadonlyMap<string, number>, weight: number): void {
  if (weight === 0 || counts.size === 0) return;
  let squares = 0;
  const logged: [string, number][] = [];
  for (const [key, count] of counts) {
    const value = Math.log1p(count);
    logged.push([key, value]);
    squares += value * value;
  }
  const scale = weight / Math.sqrt(squares);
  for (const [key, value] of logged) features.set(key, value * scale);
}
