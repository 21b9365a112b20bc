// The console's reference must be the one intake sent the customer.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ticketReference as intakeReference } from "../../../intake/src/domain/acknowledgement.ts";
import { ticketReference } from "./ticket-reference.ts";

describe("ticketReference", () => {
  it("matches intake's for any ticket id", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 64 }), (id) => ticketReference(id) === intakeReference(id)));
    expect(ticketReference("t-1")).toMatch(/^ST-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  });
});
