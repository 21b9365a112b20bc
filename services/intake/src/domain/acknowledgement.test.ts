import { describe, expect, it } from "vitest";
import { ACKNOWLEDGEMENT_TEMPLATES, acknowledgementFor, ticketReference } from "./acknowledgement.ts";

const TRIAGE_LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "hu", "cs", "ro", "sv", "tr", "ru", "uk", "ar", "he", "fa", "zh", "ja", "ko", "hi"];

describe("acknowledgements", () => {
  it("has one template for each of the 22 languages triage supports, each with the reference once", () => {
    expect(Object.keys(ACKNOWLEDGEMENT_TEMPLATES).sort()).toEqual([...TRIAGE_LANGUAGES].sort());
    for (const text of Object.values(ACKNOWLEDGEMENT_TEMPLATES)) expect(text.split("{reference}")).toHaveLength(2);
  });

  it("answers in triage's language, else the customer's, else English", () => {
    const id = "7f0c2a9e-8d1b-4c57-9e3a-2b6f1d0c4e88";
    const ref = ticketReference(id);
    expect(acknowledgementFor(id, ["de", "en"])).toEqual({
      language: "de",
      reference: ref,
      text: `Wir haben Ihre Nachricht erhalten. Ihre Referenznummer lautet ${ref}. Wir melden uns so schnell wie möglich bei Ihnen.`,
    });
    expect(acknowledgementFor(id, ["xx", "ja"]).language).toBe("ja");
    expect(acknowledgementFor(id, ["", null, undefined]).language).toBe("en");
    expect(acknowledgementFor(id, ["constructor"]).language).toBe("en");
  });

  it("isolates the Latin reference in right-to-left text", () => {
    const ack = acknowledgementFor("t-1", ["ar"]);
    expect(ack.text).toContain(`\u2068${ack.reference}\u2069`);
    expect(acknowledgementFor("t-1", ["fr"]).text).not.toContain("\u2068");
  });

  it("derives a short, stable, readable reference from the ticket id", () => {
    const a = ticketReference("ticket-a");
    expect(a).toMatch(/^ST-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(ticketReference("ticket-a")).toBe(a);
    const many = new Set(Array.from({ length: 5000 }, (_, i) => ticketReference(`t-${i}`)));
    expect(many.size).toBe(5000);
  });
});
