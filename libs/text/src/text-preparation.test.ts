import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { prepareCustomerText } from "./text-preparation.ts";

describe("prepareCustomerText", () => {
  it("removes > quoted lines and keeps the customer's own text around them", () => {
    const prepared = prepareCustomerText("Still no refund!\n\n> On Mon, 2 Sep, Mark wrote:\n> We processed your refund.\n> Best, Mark");
    expect(prepared.newText).toBe("Still no refund!");
    expect(prepared.quotedText).toContain("We processed your refund.");
  });

  it.each([
    ["en", "On Mon, 2 Sep 2024 at 10:12, Support <support@example.com> wrote:"],
    ["es", "El 14 may 2024, Soporte <soporte@tienda.com> escribió:"],
    ["fr", "Le 20 sept. 2024 à 10:12, service-client@example.fr a écrit :"],
    ["de", "Am 02.09.2024 um 11:40 schrieb Kundenservice <service@example.de>:"],
    ["it", "Il 30 ago 2024, alle ore 09:15, Assistenza Clienti ha scritto:"],
    ["pt", "Em qui., 5 de set. de 2024 às 14:22, Atendimento <atendimento@example.com> escreveu:"],
    ["nl", "Op 3 sep. 2024 om 09:00 schreef Klantenservice <info@example.nl>:"],
    ["pl", "W dniu 3.09.2024 o 09:00 Obsługa <bok@example.pl> napisał:"],
    ["ru", "3 сентября 2024 г., Поддержка <support@example.ru> написал:"],
    ["zh", "2024年9月3日 客服 <kefu@example.cn> 写道："],
  ])("cuts history from an unquoted %s reply header on", (_language, header) => {
    const prepared = prepareCustomerText(`My new question is here.\n\n${header}\nOld agent answer.\nMore old text.`);
    expect(prepared.newText).toBe("My new question is here.");
    expect(prepared.quotedText).toContain("Old agent answer.");
  });

  it("handles a reply header that wraps onto a second line", () => {
    const prepared = prepareCustomerText("Thanks, but it still fails.\n\nOn Mon, 2 Sep 2024 at 10:12, Mark Example <mark@example.com>\nwrote:\nTry clearing the cache.");
    expect(prepared.newText).toBe("Thanks, but it still fails.");
    expect(prepared.quotedText).toContain("Try clearing the cache.");
  });

  it("cuts at -----Original Message----- and its localized forms", () => {
    for (const separator of ["-----Original Message-----", "-----Ursprüngliche Nachricht-----", "-----Message d'origine-----", "---------- Forwarded message ---------"]) {
      const prepared = prepareCustomerText(`Please call me back.\n${separator}\nFrom: support\nOld text`);
      expect(prepared.newText).toBe("Please call me back.");
      expect(prepared.quotedText).toContain("Old text");
    }
  });

  it("cuts an Outlook-style From:/Sent: header block", () => {
    const prepared = prepareCustomerText(
      "It happened again.\n\nVon: Kundenservice <service@example.de>\nGesendet: Montag, 2. September 2024 11:40\nBetreff: Ihre Anfrage\nAlte Antwort",
    );
    expect(prepared.newText).toBe("It happened again.");
  });

  it("does not treat a sentence starting with 'From:' followed by prose as a header", () => {
    const prepared = prepareCustomerText("From: my side everything looks fine\nbut the export is empty.");
    expect(prepared.newText).toContain("the export is empty");
  });

  it("removes a signature after the -- delimiter, with or without the trailing space", () => {
    expect(prepareCustomerText("The API returns 503.\n\n-- \nJulien Moreau\nCTO").signature).toBe("-- \nJulien Moreau\nCTO");
    const prepared = prepareCustomerText("The API returns 503.\n--\nJulien Moreau");
    expect(prepared.newText).toBe("The API returns 503.");
    expect(prepared.signature).toBe("--\nJulien Moreau");
  });

  it.each([
    ["Could you reissue the invoice?\n\nThanks,\nPriya", "Thanks,\nPriya"],
    ["¿Podéis revisarlo?\n\nUn saludo,\nMarta Ortega", "Un saludo,\nMarta Ortega"],
    ["Bitte um Rückruf.\n\nMit freundlichen Grüßen\nUwe Hartmann\nHartmann GmbH", "Mit freundlichen Grüßen\nUwe Hartmann\nHartmann GmbH"],
    ["Proszę o zwrot.\nPozdrawiam\nJan", "Pozdrawiam\nJan"],
    ["Прошу вернуть деньги.\n\nС уважением,\nИван", "С уважением,\nИван"],
    ["Please check.\n\nSent from my iPhone", "Sent from my iPhone"],
  ])("removes a closing sign-off and what follows it", (raw, signature) => {
    expect(prepareCustomerText(raw).signature).toBe(signature);
  });

  it("takes the sign-off above a -- delimiter into the signature too", () => {
    const prepared = prepareCustomerText("Can you take a look?\n\nCheers\nDaniel\n\n--\nDaniel Okafor\nOperations Lead");
    expect(prepared.newText).toBe("Can you take a look?");
    expect(prepared.signature.startsWith("Cheers")).toBe(true);
  });

  it("keeps a sign-off word followed by a long paragraph: it is content, not a signature", () => {
    const body = `Thanks\n${"The export to CSV produces an empty file every single time I try it on the monthly report, ".repeat(2)}`;
    expect(prepareCustomerText(body).signature).toBe("");
  });

  it("keeps the text when stripping would leave nothing", () => {
    expect(prepareCustomerText("Thanks!").newText).toBe("Thanks!");
    expect(prepareCustomerText("> only a quote").newText).toBe("> only a quote");
  });

  it("normalises Windows line endings", () => {
    expect(prepareCustomerText("Hello\r\n\r\n> old\r\n").newText).toBe("Hello");
  });

  it("is total and never invents text", () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const prepared = prepareCustomerText(raw);
        expect(typeof prepared.newText).toBe("string");
        for (const line of prepared.newText.split("\n")) expect(raw.replace(/\r\n?/g, "\n")).toContain(line);
      }),
    );
  });
});
