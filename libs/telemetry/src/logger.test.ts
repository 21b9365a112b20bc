import { describe, expect, it } from "vitest";
import { redactText } from "./logger.ts";

describe("redactText", () => {
  it("removes e-mail addresses", () => {
    expect(redactText("write to jane.doe+x@example.co.uk today")).toBe("write to [email] today");
  });
  it("removes card numbers that pass the Luhn check and keeps other long numbers", () => {
    expect(redactText("card 4111 1111 1111 1111 please")).toBe("card [card] please");
    expect(redactText("order 1234567812345678")).not.toContain("[card]");
  });
  it("removes phone numbers in common formats", () => {
    expect(redactText("call +44 20 7946 0958")).toBe("call [phone]");
    expect(redactText("call (555) 123-4567 now")).toContain("[phone]");
  });
  it("leaves ordinary text alone", () => {
    expect(redactText("Order 42 arrived late")).toBe("Order 42 arrived late");
    // Ticket and event ids are what operators search logs for: a UUID's digit groups are not a phone number.
    for (const id of ["690a6eb8-6cc4-4af7-9123-456789017c8c", "12345678-1234-5678-1234-567812345678", "f-48ea-4c70-9b27-f987402ec0e0"]) {
      expect(redactText(`ticket ${id} is not in the view yet`)).toBe(`ticket ${id} is not in the view yet`);
    }
  });
});
