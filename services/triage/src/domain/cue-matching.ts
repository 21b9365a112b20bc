// Finds multilingual cue phrases (keywords of intents, urgency, tone, follow-ups) in text in one pass.
// Matching is case- and accent-insensitive. In space-separated scripts a cue matches at the start of a
// word, so "refund" also finds "refunded" (cues act as stems). Where words take attached prefixes
// (Arabic, Hebrew, Persian) or are not separated by spaces (Chinese, Japanese, Thai) a cue matches
// anywhere. Cue syntax: a trailing "$" requires a word end ("down$" finds "down", not "download");
// a leading "*" matches inside words too ("*erstattung" finds "Rückerstattung").

export interface CueList {
  /** A label such as "urgency:critical"; the part before ":" is its family (see suppression below). */
  readonly category: string;
  readonly cues: readonly string[];
}

export interface CueMatch {
  readonly category: string;
  /** The cue as written in its list. */
  readonly cue: string;
  readonly start: number;
  readonly end: number;
}

interface CueEntry {
  readonly category: string;
  readonly cue: string;
  readonly wordEnd: boolean;
}

interface TrieNode {
  readonly next: Map<string, TrieNode>;
  readonly entries: CueEntry[];
}

/** A compiled set of cue lists. Build once (policy load), reuse for every ticket. */
export interface CueIndex {
  readonly atWordStart: TrieNode;
  readonly anywhere: TrieNode;
  readonly categories: readonly string[];
}

const COMBINING_MARKS = /[\u0300-\u036f]/g;
/** Scripts written without spaces, or with clitics glued to the front of words. */
const ANYWHERE_SCRIPTS = /[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/u;
const WORD_CHARACTER = /[\p{L}\p{M}\p{N}]/u;

/**
 * The form both cues and texts are compared in: NFKC, lower case, Latin/Greek/Cyrillic accents dropped
 * (customers often type without them), Arabic Persian-letter variants kept. String length may change, so
 * match offsets refer to the folded text.
 */
export function foldForMatching(text: string): string {
  return text.normalize("NFKC").toLowerCase().normalize("NFD").replace(COMBINING_MARKS, "").normalize("NFC");
}

function newNode(): TrieNode {
  return { next: new Map(), entries: [] };
}

export function compileCueIndex(lists: readonly CueList[]): CueIndex {
  const atWordStart = newNode();
  const anywhere = newNode();
  for (const list of lists) {
    for (const rawCue of list.cues) {
      let body = rawCue.trim();
      const wordEnd = body.endsWith("$");
      if (wordEnd) body = body.slice(0, -1);
      const inside = body.startsWith("*");
      if (inside) body = body.slice(1);
      const folded = foldForMatching(body);
      if (folded === "") continue;
      const root = inside || ANYWHERE_SCRIPTS.test(folded[0] ?? "") ? anywhere : atWordStart;
      let node = root;
      for (const character of folded) {
        let child = node.next.get(character);
        if (child === undefined) {
          child = newNode();
          node.next.set(character, child);
        }
        node = child;
      }
      // The same stem listed for several languages ("plan$" in en, es, pl…) counts once per occurrence.
      if (node.entries.some((entry) => entry.category === list.category && entry.wordEnd === wordEnd)) continue;
      node.entries.push({ category: list.category, cue: rawCue, wordEnd });
    }
  }
  return {
    atWordStart,
    anywhere,
    categories: lists.map((list) => list.category),
  };
}

function isWordCharacter(character: string | undefined): boolean {
  return character !== undefined && WORD_CHARACTER.test(character);
}

/**
 * Every cue occurrence in an already folded text (see foldForMatching). Where a longer cue of one family
 * covers a shorter one of the same family ("not urgent" over "urgent"), only the longer one counts.
 */
export function findCuesInFolded(index: CueIndex, folded: string): CueMatch[] {
  const characters = Array.from(folded);
  const matches: CueMatch[] = [];
  for (let start = 0; start < characters.length; start++) {
    const first = characters[start] ?? "";
    const wordStart = start === 0 || !isWordCharacter(characters[start - 1]);
    if (wordStart && index.atWordStart.next.has(first)) walk(index.atWordStart, characters, start, matches);
    if (index.anywhere.next.has(first)) walk(index.anywhere, characters, start, matches);
  }
  return suppressCoveredMatches(matches);
}

export function findCues(index: CueIndex, text: string): CueMatch[] {
  return findCuesInFolded(index, foldForMatching(text));
}

function walk(root: TrieNode, characters: readonly string[], start: number, matches: CueMatch[]): void {
  let node: TrieNode | undefined = root;
  for (let position = start; position < characters.length && node !== undefined; position++) {
    node = node.next.get(characters[position] ?? "");
    if (node === undefined) return;
    for (const entry of node.entries) {
      if (entry.wordEnd && isWordCharacter(characters[position + 1])) continue;
      matches.push({
        category: entry.category,
        cue: entry.cue,
        start,
        end: position + 1,
      });
    }
  }
}

function family(category: string): string {
  const colon = category.indexOf(":");
  return colon === -1 ? category : category.slice(0, colon);
}

function suppressCoveredMatches(matches: readonly CueMatch[]): CueMatch[] {
  if (matches.length < 2) return [...matches];
  return matches.filter(
    (match) =>
      !matches.some(
        (other) =>
          other !== match &&
          other.category !== match.category &&
          family(other.category) === family(match.category) &&
          other.start <= match.start &&
          other.end >= match.end &&
          other.end - other.start > match.end - match.start,
      ),
  );
}

/** Matches grouped by category, each cue once, in text order. */
export function groupCueMatches(matches: readonly CueMatch[]): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const match of matches) {
    const cues = grouped.get(match.category);
    if (cues === undefined) grouped.set(match.category, [match.cue]);
    else if (!cues.includes(match.cue)) cues.push(match.cue);
  }
  return grouped;
}
