// Structured logging with personal data kept out of the log stream.
import { pino, type Logger } from "pino";

export type { Logger };

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// 13 to 19 digits, optionally grouped by spaces or dashes: card numbers (checked with Luhn below).
const CARD = /\b(?:\d[ -]?){12,18}\d\b/g;
// International or local phone numbers: 7+ digits with optional +, spaces, dashes, dots, brackets.
const PHONE = /(?<![\w-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){2,4}(?!\w|-\w)/g;

function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Replaces e-mail addresses, card numbers and phone numbers in free text. */
export function redactText(text: string): string {
  return text
    .replace(EMAIL, "[email]")
    .replace(CARD, (m) => (luhnValid(m.replace(/\D/g, "")) ? "[card]" : m))
    .replace(PHONE, (m) => (m.replace(/\D/g, "").length >= 7 ? "[phone]" : m));
}

// Field names that may carry personal data or message content, wherever they appear.
const REDACT_PATHS = [
  "body",
  "*.body",
  "text",
  "*.text",
  "subject",
  "*.subject",
  "email",
  "*.email",
  "phone",
  "*.phone",
  "customer.name",
  "*.customer.name",
  "customer.email",
  "*.customer.email",
  "customer.phone",
  "*.customer.phone",
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  'req.headers["x-steward-signature"]',
  "apiKey",
  "*.apiKey",
  "secret",
  "*.secret",
];

export function createLogger(service: string, level = "info"): Logger {
  return pino({
    name: service,
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      // Free-text fields that must be logged (errors, reasons) are scrubbed of contact data and cards.
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === "string" ? redactText(a) : a));
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    formatters: {
      log(obj) {
        const err = obj["err"];
        if (err instanceof Error) {
          return { ...obj, err: { type: err.name, message: redactText(err.message), code: (err as { code?: unknown }).code } };
        }
        return obj;
      },
    },
  });
}
