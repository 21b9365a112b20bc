// The store's refusals sorted into conflict / invalid / transient without a server: errors built as the
// driver builds them.
import { describe, expect, it } from "vitest";
import { BSON, MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from "mongodb";
import { classifyStoreError, StoreRefusedError } from "./store-errors.ts";

const server = (code: number, labels: string[] = []) => new MongoServerError({ code, errmsg: `code ${code}`, errorLabels: labels });

describe("classifyStoreError", () => {
  it("reads a duplicate key as a conflict (409)", () => {
    expect(classifyStoreError(server(11000))).toMatchObject({ kind: "conflict", code: "STORE_CONFLICT", statusCode: 409 });
  });

  it.each([2, 52, 56, 57, 10334])("reads server code %i as an invalid document (400)", (code) => {
    expect(classifyStoreError(server(code))).toMatchObject({ kind: "invalid", code: "STORE_INVALID_DOCUMENT", statusCode: 400, headers: {} });
  });

  it("reads a document the driver cannot serialise as invalid", () => {
    expect(classifyStoreError(new BSON.BSONError("key must not contain null bytes"))?.kind).toBe("invalid");
  });

  it.each([
    ["not primary", server(10107)],
    ["shutting down", server(91)],
    ["a retryable write", server(12345, ["RetryableWriteError"])],
    ["a network error", new MongoNetworkError("connection reset")],
    [
      "no server",
      new MongoServerSelectionError("no primary", {
        type: "Unknown",
        servers: new Map(),
        stale: false,
        compatible: true,
        heartbeatFrequencyMS: 1,
        localThresholdMS: 1,
        setName: null,
        maxElectionId: null,
        maxSetVersion: null,
        commonWireVersion: 0,
        logicalSessionTimeoutMinutes: null,
      } as never),
    ],
  ])("reads %s as transient (503 with Retry-After)", (_what, err) => {
    const refusal = classifyStoreError(err);
    expect(refusal).toMatchObject({ kind: "transient", code: "STORE_UNAVAILABLE", statusCode: 503 });
    expect(Number(refusal?.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("reads a driver error marked as a reset pool, and a rethrow whose cause is a network failure, as transient", () => {
    const reset = new MongoError("Connection pool for 127.0.0.1:27017 was cleared");
    reset.addErrorLabel("ResetPool");
    expect(classifyStoreError(reset)?.kind).toBe("transient");
    const wrapped = new Error("could not write the view", { cause: new MongoNetworkError("connection 20 to 127.0.0.1:27017 closed") });
    expect(classifyStoreError(wrapped)?.kind).toBe("transient");
    expect(classifyStoreError(new Error("bug", { cause: new Error("another bug") }))).toBeUndefined();
    // A network error from a second copy of the driver (not this module's class), recognised by its name.
    const foreign = Object.assign(new Error("connection 17 to 127.0.0.1:27017 closed"), { name: "MongoNetworkError" });
    expect(classifyStoreError(foreign)?.kind).toBe("transient");
  });

  it("leaves errors that are not the store's alone (they stay 500)", () => {
    expect(classifyStoreError(new Error("bug"))).toBeUndefined();
    expect(classifyStoreError(server(8000))).toBeUndefined();
  });

  it("passes an already classified refusal through", () => {
    const refusal = new StoreRefusedError("invalid", "x");
    expect(classifyStoreError(refusal)).toBe(refusal);
  });
});
