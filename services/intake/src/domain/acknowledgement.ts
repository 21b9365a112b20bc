// The acknowledgement a customer receives for a new ticket, in their language once triage knows it:
// "we have your message, here is your reference". The reference is short, derived from the ticket id,
// and easy to read out on the phone (Crockford base32: no I, L, O or U).
import { createHash } from "node:crypto";

/** One short, natural acknowledgement per language triage supports; `{reference}` is filled in. */
export const ACKNOWLEDGEMENT_TEMPLATES = {
  en: "We have received your message. Your reference is {reference}. We will get back to you as soon as we can.",
  es: "Hemos recibido tu mensaje. Tu número de referencia es {reference}. Te responderemos lo antes posible.",
  fr: "Nous avons bien reçu votre message. Votre référence est {reference}. Nous vous répondrons dans les meilleurs délais.",
  de: "Wir haben Ihre Nachricht erhalten. Ihre Referenznummer lautet {reference}. Wir melden uns so schnell wie möglich bei Ihnen.",
  it: "Abbiamo ricevuto il tuo messaggio. Il tuo numero di riferimento è {reference}. Ti risponderemo il prima possibile.",
  pt: "Recebemos a sua mensagem. O seu número de referência é {reference}. Responderemos o mais rapidamente possível.",
  nl: "We hebben je bericht ontvangen. Je referentienummer is {reference}. We nemen zo snel mogelijk contact met je op.",
  pl: "Otrzymaliśmy Twoją wiadomość. Twój numer referencyjny to {reference}. Odpowiemy najszybciej, jak to możliwe.",
  hu: "Megkaptuk az üzenetét. Az ügyszáma: {reference}. A lehető leghamarabb válaszolunk.",
  cs: "Vaši zprávu jsme obdrželi. Vaše referenční číslo je {reference}. Ozveme se vám co nejdříve.",
  ro: "Am primit mesajul dumneavoastră. Numărul de referință este {reference}. Vă vom răspunde cât mai curând posibil.",
  sv: "Vi har tagit emot ditt meddelande. Ditt referensnummer är {reference}. Vi återkommer så snart vi kan.",
  tr: "Mesajınızı aldık. Referans numaranız: {reference}. Size en kısa sürede dönüş yapacağız.",
  ru: "Мы получили ваше сообщение. Номер вашего обращения: {reference}. Мы ответим вам как можно скорее.",
  uk: "Ми отримали ваше повідомлення. Номер вашого звернення: {reference}. Ми відповімо вам якнайшвидше.",
  ar: "لقد استلمنا رسالتك. رقمك المرجعي هو {reference}. سنرد عليك في أقرب وقت ممكن.",
  he: "קיבלנו את ההודעה שלך. מספר הפנייה שלך הוא {reference}. נחזור אליך בהקדם האפשרי.",
  fa: "پیام شما را دریافت کردیم. شماره پیگیری شما {reference} است. در اسرع وقت به شما پاسخ می‌دهیم.",
  zh: "我们已收到您的消息。您的参考编号是 {reference}。我们会尽快回复您。",
  ja: "お問い合わせを受け付けました。受付番号は {reference} です。できるだけ早くご連絡いたします。",
  ko: "문의가 접수되었습니다. 접수 번호는 {reference}입니다. 최대한 빨리 답변드리겠습니다.",
  hi: "हमें आपका संदेश मिल गया है। आपका संदर्भ नंबर {reference} है। हम जल्द से जल्द आपसे संपर्क करेंगे।",
} as const;

export type AckLanguage = keyof typeof ACKNOWLEDGEMENT_TEMPLATES;
export const DEFAULT_ACK_LANGUAGE: AckLanguage = "en";

const RIGHT_TO_LEFT: ReadonlySet<string> = new Set(["ar", "he", "fa"]);
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function isAckLanguage(language: string): language is AckLanguage {
  return Object.hasOwn(ACKNOWLEDGEMENT_TEMPLATES, language);
}

/** "ST-7K3M-Q9XA": 40 bits of SHA-256 of the ticket id, for people to quote; the ticket id stays the key. */
export function ticketReference(ticketId: string): string {
  const digest = createHash("sha256").update(ticketId, "utf8").digest();
  let bits = 0n;
  for (let i = 0; i < 5; i += 1) bits = (bits << 8n) | BigInt(digest[i] ?? 0);
  let code = "";
  for (let i = 7; i >= 0; i -= 1) code += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
  return `ST-${code.slice(0, 4)}-${code.slice(4)}`;
}

export interface Acknowledgement {
  language: AckLanguage;
  reference: string;
  text: string;
}

/**
 * The acknowledgement for a ticket: in the first of `languages` we have a template for (triage's
 * language, then the customer's own), else English. In right-to-left text the Latin reference is
 * wrapped in Unicode isolates so its hyphens render in order.
 */
export function acknowledgementFor(ticketId: string, languages: ReadonlyArray<string | null | undefined>): Acknowledgement {
  const language = languages.find((l): l is AckLanguage => typeof l === "string" && isAckLanguage(l)) ?? DEFAULT_ACK_LANGUAGE;
  const reference = ticketReference(ticketId);
  const shown = RIGHT_TO_LEFT.has(language) ? `\u2068${reference}\u2069` : reference;
  return { language, reference, text: ACKNOWLEDGEMENT_TEMPLATES[language].replace("{reference}", shown) };
}
