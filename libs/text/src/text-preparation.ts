// Separates what the customer newly wrote from quoted history and signatures, so language, intent and
// urgency are judged on the new text only (an old "URGENT" in a quoted reply must not raise priority).

export interface PreparedText {
  /** The customer's new text, trimmed. */
  readonly newText: string;
  /** Quoted history: `>` lines, and everything from a reply header ("On … wrote:", "-----Original Message-----", "From: … Sent: …") on. */
  readonly quotedText: string;
  /** The signature block: from a `-- ` delimiter, a device footer or a closing sign-off line on. */
  readonly signature: string;
}

/** "On … wrote:" in the languages customers write in; the header may wrap onto a second line. */
const REPLY_ATTRIBUTION_PATTERNS: readonly RegExp[] = [
  /^on\b.+\bwrote\s*:\s*$/i, // en
  /^el\s.+\sescribi[óo]\s*:\s*$/iu, // es
  /^le\s.+\sa [ée]crit\s*:\s*$/iu, // fr
  /^am\b.+\bschrieb\b.*:\s*$/i, // de
  /^(il\b.+)?\bha scritto\s*:\s*$/i, // it
  /^(em|no dia)\b.+\bescreveu\s*:\s*$/i, // pt
  /^op\b.+\bschreef\b.*:\s*$/i, // nl
  /^(w dniu|dnia)\s.+\snapisał(a)?(\s.*)?:\s*$/iu, // pl
  /^.+\sírta\s*:\s*$/iu, // hu
  /^(dne|v)\b.+\bnapsal(a)?\b.*:\s*$/i, // cs
  /^(în|pe)\s.+\sa scris\s*:\s*$/iu, // ro
  /^(den|on)\b.+\bskrev\b.*:\s*$/i, // sv
  /^.+\s(tarihinde|yazdı)(\s.*)?:\s*$/iu, // tr
  /^.+\sнаписал(а)?\s*:\s*$/iu, // ru
  /^.+\sнаписа(в|ла)\s*:\s*$/iu, // uk
  /^.+كتب.*:\s*$/, // ar
  /^.+כתב(ה)?\s*:\s*$/, // he
  /^.+نوشت\s*:\s*$/, // fa
  /^.+写道\s*[:：]\s*$/, // zh
  /^.+(書きました|のメッセージ)\s*[:：]\s*$/, // ja
  /^.+(님이 작성|작성했습니다)\s*[:：]?\s*$/, // ko
  /^.+ने लिखा\s*[:：]\s*$/, // hi
];

/** "-----Original Message-----", "-----Ursprüngliche Nachricht-----", "---- Forwarded message ----" … */
const ORIGINAL_MESSAGE_SEPARATOR = /^\s*-{2,}\s*[^-\s][^-]*?\s*-{2,}\s*$/u;

/** Outlook-style header block: a "From:" line in any of our languages followed by another header line. */
const HEADER_FROM = /^\s*(from|von|de|da|van|od|från|feladó|от|від|kimden|gönderen|من|מאת|از|发件人|寄件者|差出人|보낸 사람|प्रेषक)\s*[:：]/i;
const HEADER_FIELD = /^\s*[\p{L}][\p{L} .-]{0,24}\s*[:：]\s*\S/u;

/** RFC 3676 signature delimiter ("-- "); mail clients often trim the trailing space. */
const SIGNATURE_DELIMITER = /^--\s*$/;

const DEVICE_FOOTER =
  /^\s*(sent from my|sent from|get outlook for|enviado desde|envoyé de|von meinem|gesendet von|inviato da|enviado do|verstuurd vanaf|wysłane z|odesláno z|trimis de pe|skickat från|отправлено с|надіслано з|iphone'?umdan gönderildi)\b/i;

/**
 * Closing sign-offs that end the message body when they stand alone on a line. Kept to phrases that are
 * almost never the content of a request ("thanks" alone is one; "thanks for the refund" is not matched).
 */
const SIGN_OFF_PHRASES: readonly string[] = [
  // en
  "thanks",
  "thank you",
  "thanks in advance",
  "many thanks",
  "best",
  "best regards",
  "kind regards",
  "regards",
  "warm regards",
  "cheers",
  "sincerely",
  "yours sincerely",
  "yours faithfully",
  "all the best",
  "br",
  // es
  "gracias",
  "muchas gracias",
  "un saludo",
  "saludos",
  "saludos cordiales",
  "atentamente",
  "un cordial saludo",
  "muchas gracias de antemano",
  "gracias de antemano",
  // fr
  "merci",
  "merci beaucoup",
  "cordialement",
  "bien cordialement",
  "bien à vous",
  "salutations",
  "meilleures salutations",
  "bonne journée",
  "merci d'avance",
  // de
  "danke",
  "vielen dank",
  "mit freundlichen grüßen",
  "mit freundlichen grüssen",
  "freundliche grüße",
  "viele grüße",
  "beste grüße",
  "liebe grüße",
  "lg",
  "mfg",
  "gruß",
  "grüße",
  // it
  "grazie",
  "grazie mille",
  "cordiali saluti",
  "distinti saluti",
  "saluti",
  "un saluto",
  "grazie in anticipo",
  // pt
  "obrigado",
  "obrigada",
  "muito obrigado",
  "muito obrigada",
  "atenciosamente",
  "cumprimentos",
  "melhores cumprimentos",
  "abraço",
  "abraços",
  // nl
  "bedankt",
  "dank je",
  "dank u",
  "met vriendelijke groet",
  "met vriendelijke groeten",
  "groeten",
  "vriendelijke groet",
  "groetjes",
  "alvast bedankt",
  // pl
  "dziękuję",
  "dziekuje",
  "pozdrawiam",
  "z poważaniem",
  "pozdrowienia",
  "z góry dziękuję",
  // hu
  "köszönöm",
  "üdvözlettel",
  "tisztelettel",
  "köszönettel",
  "üdv",
  // cs
  "děkuji",
  "s pozdravem",
  "díky",
  "předem děkuji",
  // ro
  "mulțumesc",
  "multumesc",
  "cu stimă",
  "cu respect",
  "o zi bună",
  "toate cele bune",
  // sv
  "tack",
  "tack på förhand",
  "med vänliga hälsningar",
  "vänliga hälsningar",
  "hälsningar",
  "mvh",
  // tr
  "teşekkürler",
  "teşekkür ederim",
  "saygılarımla",
  "iyi çalışmalar",
  "kolay gelsin",
  // ru
  "спасибо",
  "с уважением",
  "заранее спасибо",
  "всего доброго",
  // uk
  "дякую",
  "з повагою",
  "заздалегідь дякую",
  // ar
  "شكرا",
  "شكراً",
  "مع التحية",
  "مع خالص التحية",
  "وشكرا",
  "تحياتي",
  // he
  "תודה",
  "בברכה",
  "תודה רבה",
  // fa
  "با تشکر",
  "با احترام",
  "ممنون",
  "سپاس",
  // zh
  "谢谢",
  "谢谢！",
  "此致",
  "此致敬礼",
  "祝好",
  // ja
  "よろしくお願いします",
  "よろしくお願いいたします",
  "宜しくお願い致します",
  "以上です",
  "敬具",
  // ko
  "감사합니다",
  "감사합니다.",
  "수고하세요",
  // hi
  "धन्यवाद",
  "सादर",
  "शुक्रिया",
];

const SIGN_OFF_SET: ReadonlySet<string> = new Set(SIGN_OFF_PHRASES.map(normalizeSignOff));

/** A sign-off only starts the signature when little follows it: a name, a title, a phone number. */
const MAX_LINES_AFTER_SIGN_OFF = 5;
const MAX_SIGNATURE_LINE_LENGTH = 80;

function normalizeSignOff(line: string): string {
  return line
    .toLowerCase()
    .replace(/[\s,.!;:¡!。、！，\-–—]+$/u, "")
    .replace(/^[\s\-–—]+/u, "")
    .replace(/\s+/gu, " ");
}

function isReplyAttribution(line: string): boolean {
  const trimmed = line.trim();
  return trimmed.length > 0 && REPLY_ATTRIBUTION_PATTERNS.some((pattern) => pattern.test(trimmed));
}

function isQuotedLine(line: string): boolean {
  return /^\s*>/.test(line);
}

/** Index of the first line that opens quoted history, or -1. */
function findHistoryStart(lines: readonly string[]): number {
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (isQuotedLine(line)) continue;
    if (ORIGINAL_MESSAGE_SEPARATOR.test(line)) return index;
    if (isReplyAttribution(line)) return index;
    const next = nextNonBlank(lines, index + 1);
    // A wrapped attribution: "On Mon, 2 Sep 2024 at 10:12, Mark <mark@example.com>" / "wrote:".
    if (next !== undefined && /^\s*\S/.test(line) && line.length < 200 && isReplyAttribution(`${line.trim()} ${next.text.trim()}`)) {
      if (!isReplyAttribution(next.text)) return index;
    }
    if (HEADER_FROM.test(line) && next !== undefined && HEADER_FIELD.test(next.text) && !HEADER_FROM.test(next.text)) {
      return index;
    }
  }
  return -1;
}

function nextNonBlank(lines: readonly string[], from: number): { index: number; text: string } | undefined {
  for (let index = from; index < lines.length; index++) {
    const text = lines[index] ?? "";
    if (text.trim() !== "") return { index, text };
  }
  return undefined;
}

/** Index of the first signature line in `lines` (already free of quoted history), or -1. */
function findSignatureStart(lines: readonly string[]): number {
  let end = lines.length;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (SIGNATURE_DELIMITER.test(line) || DEVICE_FOOTER.test(line)) {
      end = index;
      break;
    }
  }
  // A sign-off just above the delimiter ("Cheers / Daniel / -- / Daniel Okafor") belongs to the signature too.
  const lastContent = lastNonBlankIndex(lines.slice(0, end));
  for (let index = Math.max(0, lastContent - MAX_LINES_AFTER_SIGN_OFF); index <= lastContent; index++) {
    const line = lines[index] ?? "";
    if (!SIGN_OFF_SET.has(normalizeSignOff(line))) continue;
    const rest = lines.slice(index + 1, end).filter((candidate) => candidate.trim() !== "");
    if (rest.every((candidate) => candidate.length <= MAX_SIGNATURE_LINE_LENGTH)) return index;
  }
  return end === lines.length ? -1 : end;
}

function lastNonBlankIndex(lines: readonly string[]): number {
  for (let index = lines.length - 1; index >= 0; index--) {
    if ((lines[index] ?? "").trim() !== "") return index;
  }
  return -1;
}

function joinTrimmed(lines: readonly string[]): string {
  return lines
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * Splits a customer's message into new text, quoted history and signature. Total: any string in, and
 * when stripping would leave no new text at all (a message that is only "Thanks!") the text is kept.
 */
export function prepareCustomerText(raw: string): PreparedText {
  const lines = raw.replace(/\r\n?/g, "\n").split("\n");
  const historyStart = findHistoryStart(lines);
  const beforeHistory = historyStart === -1 ? lines : lines.slice(0, historyStart);
  const history = historyStart === -1 ? [] : lines.slice(historyStart);

  const ownLines: string[] = [];
  const quotedLines: string[] = [];
  for (const line of beforeHistory) {
    if (isQuotedLine(line)) quotedLines.push(line);
    else ownLines.push(line);
  }
  quotedLines.push(...history);

  const signatureStart = findSignatureStart(ownLines);
  const bodyLines = signatureStart === -1 ? ownLines : ownLines.slice(0, signatureStart);
  const signatureLines = signatureStart === -1 ? [] : ownLines.slice(signatureStart);

  const newText = joinTrimmed(bodyLines);
  if (newText === "") {
    // Nothing but a sign-off or a quote: keep what the customer typed rather than triaging an empty string.
    return {
      newText: joinTrimmed(ownLines) || raw.trim(),
      quotedText: joinTrimmed(quotedLines),
      signature: "",
    };
  }
  return {
    newText,
    quotedText: joinTrimmed(quotedLines),
    signature: joinTrimmed(signatureLines),
  };
}
