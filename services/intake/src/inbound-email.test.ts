import { describe, expect, it } from "vitest";
import { InvalidEmailError, mimeFromForm, parseRawEmail } from "./inbound-email.ts";

const crlf = (lines: string[]) => Buffer.from(lines.join("\r\n"), "utf8");

const multipartReply = crlf([
  'From: "José Müller" <jose@example.com>',
  "To: Support <support@acme.test>",
  "Subject: =?UTF-8?B?UmU6IFLDvGNrZXJzdGF0dHVuZw==?=",
  "Message-ID: <CAF=reply.2@mail.example.com>",
  "In-Reply-To: <orig.1@mail.example.com>",
  "References: <orig.1@mail.example.com>",
  "Date: Tue, 04 Mar 2025 09:30:00 +0100",
  "MIME-Version: 1.0",
  'Content-Type: multipart/alternative; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=iso-8859-1",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Ich warte immer noch auf die R=FCckerstattung.",
  "",
  "Am 03.03.2025 um 10:12 schrieb Support <support@acme.test>:",
  "> Wir k=FCmmern uns darum.",
  "--b1",
  "Content-Type: text/html; charset=utf-8",
  "",
  "<p>Ich warte immer noch auf die Rückerstattung.</p>",
  "--b1--",
  "",
]);

describe("parseRawEmail", () => {
  it("decodes headers, charsets and threading ids of a multipart reply", async () => {
    const mail = await parseRawEmail(multipartReply);
    expect(mail).toMatchObject({
      messageId: "<CAF=reply.2@mail.example.com>",
      inReplyTo: "<orig.1@mail.example.com>",
      references: ["<orig.1@mail.example.com>"],
      from: { address: "jose@example.com", name: "José Müller" },
      to: ["support@acme.test"],
      subject: "Re: Rückerstattung",
      attachmentCount: 0,
    });
    expect(mail.text).toContain("Ich warte immer noch auf die Rückerstattung.");
    expect(mail.text).toContain("> Wir kümmern uns darum.");
    expect(mail.date?.toISOString()).toBe("2025-03-04T08:30:00.000Z");
    expect(mail.rawSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("turns an HTML-only message into text, and notices auto-replies and attachments", async () => {
    const mail = await parseRawEmail(
      crlf([
        "From: shop@example.org",
        "To: support@acme.test",
        "Subject: Out of office",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="m"',
        "",
        "--m",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<html><body><p>I am <b>away</b> until Monday.</p></body></html>",
        "--m",
        'Content-Type: application/pdf; name="invoice.pdf"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="invoice.pdf"',
        "",
        "JVBERi0xLjQK",
        "--m--",
        "",
      ]),
    );
    expect(mail.text?.trim()).toBe("I am away until Monday.");
    expect(mail.autoSubmitted).toBe("auto-replied");
    expect(mail.attachmentCount).toBe(1);
    expect(mail.messageId).toBeUndefined();
  });

  it("gives no sender for garbage instead of failing", async () => {
    const mail = await parseRawEmail(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]));
    expect(mail.from).toBeUndefined();
  });
});

describe("mimeFromForm", () => {
  it("finds the raw message in a provider's form field", async () => {
    const form = new FormData();
    form.append("to", "support@acme.test");
    form.append("email", "From: a@example.com\r\nSubject: hi\r\n\r\nhello");
    const req = new Request("http://x", { method: "POST", body: form });
    const raw = await mimeFromForm(Buffer.from(await req.arrayBuffer()), req.headers.get("content-type") ?? "");
    expect(raw.toString()).toContain("Subject: hi");
  });

  it("takes a file field byte for byte", async () => {
    const form = new FormData();
    form.append("mime", new Blob([Buffer.from("From: a@example.com\r\n\r\n\xe9", "latin1")]), "message.eml");
    const req = new Request("http://x", { method: "POST", body: form });
    const raw = await mimeFromForm(Buffer.from(await req.arrayBuffer()), req.headers.get("content-type") ?? "");
    expect(raw.at(-1)).toBe(0xe9);
  });

  it("says which fields it looked for, and rejects broken forms", async () => {
    const form = new FormData();
    form.append("text", "hello");
    const req = new Request("http://x", { method: "POST", body: form });
    await expect(mimeFromForm(Buffer.from(await req.arrayBuffer()), req.headers.get("content-type") ?? "")).rejects.toMatchObject({ code: "MISSING_EMAIL_FIELD" });
    await expect(mimeFromForm(Buffer.from("junk"), "multipart/form-data; boundary=zzzzzz")).rejects.toBeInstanceOf(InvalidEmailError);
  });
});
