// The reply rule: owner public or internal, collaborators internal only, nobody else; empty bodies refused.
import { describe, expect, it } from "vitest";
import { checkReply, mayWrite } from "./replies.ts";

const ticket = { ownerId: "ana", collaborators: ["bob"] };

describe("replies", () => {
  it("lets the owner answer the customer and leave notes", () => {
    expect(() => checkReply(ticket, "ana", "public", "Refund sent")).not.toThrow();
    expect(() => checkReply(ticket, "ana", "internal", "Checked the ledger")).not.toThrow();
  });

  it("lets a collaborator leave internal notes only", () => {
    expect(() => checkReply(ticket, "bob", "internal", "Looks like a duplicate charge")).not.toThrow();
    expect(() => checkReply(ticket, "bob", "public", "Hello")).toThrow(expect.objectContaining({ code: "NOT_OWNER", message: expect.stringMatching(/internal notes/) }));
  });

  it("refuses everyone else, and everyone on a ticket nobody owns", () => {
    expect(() => checkReply(ticket, "cy", "internal", "hi")).toThrow(expect.objectContaining({ code: "NOT_OWNER" }));
    expect(mayWrite({ ownerId: null, collaborators: [] }, "public")).toEqual([]);
  });

  it("refuses an empty body", () => {
    expect(() => checkReply(ticket, "ana", "public", "  \n")).toThrow(expect.objectContaining({ code: "INVALID_INPUT" }));
  });
});
