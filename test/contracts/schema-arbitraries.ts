// fast-check arbitraries from the JSON schemas of an OpenAPI document: requests the document says are
// valid, and requests it says are not (a field missing, of the wrong type, too long, unknown, or a body
// that is not JSON at all). The property test sends both kinds to the running services.
import fc from "fast-check";

export interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  maxProperties?: number;
  propertyNames?: Schema;
  nullable?: boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  format?: string;
}

const SMALL = 6;

/** Text of 1-n characters from a mix of ASCII, accents, scripts and emoji (never control characters). */
function text(minLength: number, maxLength: number): fc.Arbitrary<string> {
  const char = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789 .-_@:".split("")) },
    { weight: 1, arbitrary: fc.constantFrom("é", "ß", "ø", "ж", "ש", "ع", "中", "日", "😀", "क") },
  );
  return fc.array(char, { minLength, maxLength: Math.min(maxLength, minLength + 40) }).map((cs) => cs.join(""));
}

function stringOf(s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 200;
  if (s.format === "date-time") return fc.date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.format === "email") return fc.constantFrom("kim@example.com", "a.b@example.org");
  if (s.pattern !== undefined) {
    const re = new RegExp(s.pattern, "u");
    const fits = (v: string) => v.length >= min && v.length <= max && re.test(v);
    try {
      return fc.stringMatching(re).filter(fits);
    } catch {
      // fast-check cannot generate from every pattern (lookaheads): draw text and keep what matches.
      return text(Math.max(min, 1), max).filter(fits);
    }
  }
  return text(Math.max(min, 0), max).filter((v) => v.length >= min && v.length <= max && (min === 0 || v.trim().length > 0));
}

/** Values the schema accepts. */
export function valid(s: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (s === undefined || depth > 5) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum !== undefined) return fc.constantFrom(...s.enum);
  if (s.oneOf ?? s.anyOf) return fc.oneof(...(s.oneOf ?? s.anyOf ?? []).map((x) => valid(x, depth + 1)));
  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? (s.properties ? ["object"] : []) : [s.type];
  if (types.length === 0) return fc.oneof(fc.constant(null), fc.string({ maxLength: 10 }), fc.integer());
  const arbs = types.map((t) => validOfType(t, s, depth));
  if (s.nullable) arbs.push(fc.constant(null));
  return arbs.length === 1 ? (arbs[0] as fc.Arbitrary<unknown>) : fc.oneof(...arbs);
}

function validOfType(t: string, s: Schema, depth: number): fc.Arbitrary<unknown> {
  switch (t) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 1000 });
    case "number":
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true, noDefaultInfinity: true });
    case "string":
      return stringOf(s);
    case "array":
      return fc.array(valid(s.items, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? SMALL, SMALL) });
    case "object": {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = valid(v, depth + 1);
      const known = fc.record(record, { requiredKeys: [...required].filter((k) => k in props) });
      if (typeof s.additionalProperties === "object") {
        const keys = s.propertyNames ? stringOf(s.propertyNames) : text(1, 30);
        const extra = fc.dictionary(
          keys.filter((k) => !(k in props) && k !== "__proto__"),
          valid(s.additionalProperties, depth + 1),
          { maxKeys: Math.min(s.maxProperties ?? SMALL, SMALL) },
        );
        return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a }));
      }
      return known;
    }
    default:
      return fc.constant(null);
  }
}

/** A JSON value the schema refuses, or undefined when the schema accepts anything. */
export function invalid(s: Schema | undefined): fc.Arbitrary<unknown> | undefined {
  if (s === undefined) return undefined;
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ["object"] : [];
  const options: fc.Arbitrary<unknown>[] = [];
  if (types.length > 0 && !types.includes("string") && !s.nullable) options.push(fc.constant("not the right type"));
  if (types.length > 0 && !types.includes("number") && !types.includes("integer")) options.push(fc.constant(42));
  if (types.includes("string") && !types.includes("null")) {
    if (s.maxLength !== undefined) options.push(fc.constant("x".repeat(s.maxLength + 1)));
    if (s.minLength !== undefined && s.minLength > 0) options.push(fc.constant(""));
    if (s.enum !== undefined) options.push(fc.constant("not-one-of-the-values"));
    if (s.pattern !== undefined) {
      const re = new RegExp(s.pattern, "u");
      options.push(fc.constantFrom("bad\u0000value", "bad value with spaces", "\u0007", "..").filter((v) => !re.test(v)));
    }
  }
  if ((types.includes("integer") || types.includes("number")) && s.maximum !== undefined) options.push(fc.constant(s.maximum + 1));
  if (types.includes("object")) {
    const props = s.properties ?? {};
    const required = s.required ?? [];
    const base = valid(s) as fc.Arbitrary<Record<string, unknown>>;
    if (required.length > 0) options.push(fc.tuple(base, fc.constantFrom(...required)).map(([o, k]) => omit(o, k)));
    if (s.additionalProperties === false) options.push(base.map((o) => ({ ...o, unexpectedField: 1 })));
    const broken = Object.entries(props).flatMap(([k, v]) => {
      const bad = invalid(v);
      return bad === undefined ? [] : [fc.tuple(base, bad).map(([o, b]) => ({ ...o, [k]: b }))];
    });
    if (broken.length > 0) options.push(fc.oneof(...broken));
    options.push(fc.constant([]));
  }
  return options.length === 0 ? undefined : fc.oneof(...options);
}

function omit(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...o };
  delete copy[key];
  return copy;
}
