import { describe, expect, it } from "vitest";
import { deliveryKey, topicKey } from "./submission.ts";

describe("topicKey", () => {
  it("treats replies and forwards as the same topic", () => {
    expect(topicKey("Re: RE: Fwd: Refund for order 42")).toBe("refund for order 42");
    expect(topicKey("AW: Rechnung  fehlt")).toBe("rechnung fehlt");
    expect(topicKey("回复：退款")).toBe("退款");
  });
  it("has no topic for empty subjects", () => {
    expect(topicKey(undefined)).toBeUndefined();
    expect(topicKey("Re: ")).toBeUndefined();
  });
});

describe("deliveryKey", () => {
  it("separates integrations that reuse the same delivery id", () => {
    expect(deliveryKey("a", "1")).not.toBe(deliveryKey("b", "1"));
    expect(deliveryKey("a:b", "c")).not.toBe(deliveryKey("a", "b:c"));
  });
});
