// What the store's command metrics label a command with: its collection and how many documents or
// statements it carried (the statements are what FerretDB's work grows with).
import { describe, expect, it } from "vitest";
import { collectionOf, statementsOf } from "./index.ts";

describe("store command labels", () => {
  it("names the collection a command works on, and none for commands without one", () => {
    expect(collectionOf("update", { update: "intake_tickets", updates: [] })).toBe("intake_tickets");
    expect(collectionOf("find", { find: "routing_tickets", filter: { _id: "t" } })).toBe("routing_tickets");
    expect(collectionOf("getMore", { getMore: 123n, collection: "escalation_slas" })).toBe("escalation_slas");
    expect(collectionOf("ping", { ping: 1 })).toBe("-");
    expect(collectionOf("aggregate", { aggregate: 1, pipeline: [] })).toBe("-");
  });

  it("counts the documents of an insert and the statements of an update or delete, and 1 for any other command", () => {
    expect(statementsOf("insert", { insert: "c", documents: [{}, {}, {}] })).toBe(3);
    expect(
      statementsOf("update", {
        update: "c",
        updates: [
          { q: {}, u: {} },
          { q: {}, u: {} },
        ],
      }),
    ).toBe(2);
    expect(statementsOf("delete", { delete: "c", deletes: [{ q: {}, limit: 1 }] })).toBe(1);
    expect(statementsOf("findAndModify", { findAndModify: "c", query: {} })).toBe(1);
    expect(statementsOf("find", { find: "c" })).toBe(1);
  });
});
