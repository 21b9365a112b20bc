// One rule per kind of text a client sends, declared once: each is a JSON-schema fragment (what fastify's
// validator and /docs use) and a check compiled from that same fragment (what domain validators call), so
// every service and every way in (HTTP, gRPC, Kafka) applies the same rule to the same kind of text.

/** A string rule as JSON schema. Lengths count code points, as JSON schema (and ajv) do. */
export interface TextSchema {
  readonly type: "string";
  readonly minLength?: number;
  readonly maxLength: number;
  readonly pattern?: string;
}

export interface TextRule {
  readonly schema: TextSchema;
  /** What is wrong with `value` in a few words ("must be at most 100 characters"), or undefined when it passes. */
  check(value: string): string | undefined;
}

function rule(schema: TextSchema, patternMeans: string): TextRule {
  const pattern = schema.pattern === undefined ? undefined : new RegExp(schema.pattern, "u");
  const min = schema.minLength ?? 0;
  return {
    schema,
    check(value) {
      const length = [...value].length;
      if (length < min) return min === 1 ? "must not be empty" : `must be at least ${min} characters`;
      if (length > schema.maxLength) return `must be at most ${schema.maxLength} characters`;
      if (pattern !== undefined && !pattern.test(value)) return patternMeans;
      return undefined;
    },
  };
}

// Control characters (C0, DEL) are never part of a name; "." and a leading "$" are a store's path and
// operator syntax, so names that may end up as keys (skills, groups) do without them.
const NO_CONTROL = String.raw`[^\u0000-\u001f\u007f]`;

export const TextRules = {
  /** Ids (agents, tickets, integrations' ids): 1-128 characters of A-Z a-z 0-9 . _ : @ - */
  id: rule({ type: "string", minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9._:@-]+$" }, "must contain only A-Z a-z 0-9 . _ : @ -"),
  /** People's and things' names: 1-200 characters, no control characters. */
  name: rule({ type: "string", minLength: 1, maxLength: 200, pattern: `^${NO_CONTROL}+$` }, "must not contain control characters"),
  /** Skill names: 1-100 characters, no control characters, no ".", not starting with "$". */
  skillName: rule(
    { type: "string", minLength: 1, maxLength: 100, pattern: String.raw`^(?!\$)[^\u0000-\u001f\u007f.]+$` },
    'must not contain control characters or "." nor start with "$"',
  ),
  /** Group names: the same rule as skill names (groups are routing keys too). */
  groupName: rule(
    { type: "string", minLength: 1, maxLength: 100, pattern: String.raw`^(?!\$)[^\u0000-\u001f\u007f.]+$` },
    'must not contain control characters or "." nor start with "$"',
  ),
  /** Language codes: ISO 639-1, two lowercase letters. */
  language: rule({ type: "string", minLength: 2, maxLength: 2, pattern: "^[a-z]{2}$" }, "must be an ISO 639-1 code (two lowercase letters)"),
  /** Free text (subjects, bodies, reasons) up to `maxLength` characters; anything but NUL. */
  freeText: (maxLength: number): TextRule => rule({ type: "string", maxLength, pattern: String.raw`^[^\u0000]*$` }, "must not contain NUL characters"),
} as const;
