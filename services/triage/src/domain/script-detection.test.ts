import { describe, expect, it } from "vitest";
import { judgeLanguageByScript, profileScripts } from "./script-detection.ts";

function decided(text: string): string | undefined {
  const verdict = judgeLanguageByScript(text);
  return verdict.kind === "decided" ? verdict.language : undefined;
}

describe("profileScripts", () => {
  it("counts letters per script and ignores digits, punctuation and emoji", () => {
    const profile = profileScripts("Order #123 – 注文 OK 👍");
    expect(profile.counts.latin).toBe(7);
    expect(profile.counts.han).toBe(2);
    expect(profile.letters).toBe(9);
    expect(profile.dominant).toBe("latin");
  });

  it("reports no dominant script for text without letters", () => {
    expect(profileScripts("123 !!! 👍").dominant).toBeUndefined();
  });
});

describe("judgeLanguageByScript", () => {
  it.each([
    ["비밀번호를 재설정했는데도 로그인이 안 됩니다.", "ko"],
    ["שלום, חויבתי פעמיים על אותה הזמנה.", "he"],
    ["मेरा ऑर्डर अभी तक नहीं आया है", "hi"],
    ["注文した商品がまだ届いていません。", "ja"],
    ["你好，我退回的商品已经两个星期了，还没有收到退款。", "zh"],
    ["سلام، سفارش من هنوز نرسیده است. لطفا پیگیری کنید.", "fa"],
    ["أريد استرداد المبلغ لأن المنتج وصل تالفا.", "ar"],
    ["Добрий день, моє замовлення ще не прийшло.", "uk"],
    ["Вы списали деньги дважды за один заказ.", "ru"],
  ])("decides %s → %s", (text, language) => {
    expect(decided(text)).toBe(language);
  });

  it("reads Persian from its own letters (پ چ ژ گ) even in a short text", () => {
    expect(decided("چطور")).toBe("fa");
    expect(decided("گزارش")).toBe("fa");
  });

  it("reads Persian from Persian yeh and kaf when no Persian-only letter occurs", () => {
    expect(decided("این کار نمی کند")).toBe("fa");
  });

  it("leaves Arabic-script text without telling letters to the detector, among ar and fa", () => {
    expect(judgeLanguageByScript("سلام")).toEqual({
      kind: "narrowed",
      candidates: ["ar", "fa"],
      reason: "Arabic script",
    });
  });

  it("leaves Cyrillic without ru/uk-specific letters to the detector, among ru and uk", () => {
    const verdict = judgeLanguageByScript("Доставка");
    expect(verdict.kind).toBe("narrowed");
    if (verdict.kind === "narrowed") expect(verdict.candidates).toEqual(["ru", "uk"]);
  });

  it("takes kana as Japanese even with Latin product names around", () => {
    expect(decided("iPhone 15 Pro の配送はいつですか")).toBe("ja");
  });

  it("is less sure of a short Han-only text (it may be a Japanese subject line)", () => {
    const short = judgeLanguageByScript("請求");
    const long = judgeLanguageByScript("你们的系统完全无法使用，我们整个团队都无法工作。");
    expect(short.kind === "decided" && long.kind === "decided" && short.confidence < long.confidence).toBe(true);
  });

  it("says nothing about Latin-script text", () => {
    expect(judgeLanguageByScript("Ich kann mich nicht anmelden").kind).toBe("open");
  });

  it("does not let a few foreign letters decide a mostly Latin text", () => {
    expect(judgeLanguageByScript("Please ship order 42 to Tel Aviv (תל אביב) next week").kind).toBe("open");
  });
});

describe("Cyrillic without telling letters", () => {
  it("uses frequent language-specific words", () => {
    expect(decided("швидко доставили, все супер, дякую")).toBe("uk");
    expect(decided("спасибо, все пришло быстро")).toBe("ru");
  });

  it("ignores words shared by both languages", () => {
    expect(judgeLanguageByScript("ваш курьер").kind).toBe("narrowed");
  });
});
