// One error envelope for everything the app refuses, the framework's own refusals included: every
// answer below is {error: {code, message}} with the status the reason calls for and a stable code.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import type { FastifyInstance } from "fastify";
import { buildHttpApp } from "./app.ts";

let app: FastifyInstance;

beforeAll(async () => {
  app = await buildHttpApp({ service: "test", ready: async () => ({ ok: true, checks: {} }), bodyLimit: 1024, requestTimeoutMs: 300 });
  app.get("/v1/things/:id", async () => ({ ok: true }));
  app.post("/v1/things", { schema: { body: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } }, async () => ({ ok: true }));
  await app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await app.close();
});

function expectEnvelope(res: { statusCode: number; json(): unknown }, status: number, code: string): void {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
}

/** Sends raw bytes and returns what the server answers before it closes the connection. */
function raw(request: string, waitMs = 2_000): Promise<string> {
  const { port } = app.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString("utf8")));
    socket.on("close", () => resolve(data));
    socket.on("error", reject);
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

function parseRaw(answer: string): { status: number; body: { error: { code: string } } } {
  const [head, body] = answer.split("\r\n\r\n");
  return { status: Number(head?.split(" ")[1]), body: JSON.parse(body ?? "{}") as { error: { code: string } } };
}

describe("the error envelope", () => {
  it("404 for an unknown route", async () => {
    expectEnvelope(await app.inject({ method: "GET", url: "/nope" }), 404, "ROUTE_NOT_FOUND");
  });

  it("405 with Allow for a known path and another method", async () => {
    const res = await app.inject({ method: "DELETE", url: "/v1/things/1" });
    expectEnvelope(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers["allow"]).toMatch(/GET/);
  });

  it("413 for a body over the limit", async () => {
    expectEnvelope(
      await app.inject({ method: "POST", url: "/v1/things", headers: { "content-type": "application/json" }, payload: JSON.stringify({ name: "x".repeat(2000) }) }),
      413,
      "PAYLOAD_TOO_LARGE",
    );
  });

  it("414 for an over-long path parameter (refused before routing)", async () => {
    expectEnvelope(await app.inject({ method: "GET", url: `/v1/things/${"x".repeat(500)}` }), 414, "URI_TOO_LONG");
  });

  it("400 for a URL that does not decode", async () => {
    expectEnvelope(await app.inject({ method: "GET", url: "/v1/things/%E0%A4%A" }), 400, "BAD_REQUEST");
  });

  it("415 for a body type no parser takes", async () => {
    expectEnvelope(await app.inject({ method: "POST", url: "/v1/things", headers: { "content-type": "application/xml" }, payload: "<a/>" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("400 INVALID_JSON for malformed JSON, 400 VALIDATION_FAILED for the wrong shape", async () => {
    expectEnvelope(await app.inject({ method: "POST", url: "/v1/things", headers: { "content-type": "application/json" }, payload: "{" }), 400, "INVALID_JSON");
    expectEnvelope(await app.inject({ method: "POST", url: "/v1/things", headers: { "content-type": "application/json" }, payload: "{}" }), 400, "VALIDATION_FAILED");
  });

  it("408 for a request not received in time", async () => {
    const answer = parseRaw(await raw("POST /v1/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", 5_000));
    expect(answer.status).toBe(408);
    expect(answer.body.error.code).toBe("REQUEST_TIMEOUT");
  });

  it("431 for headers too large, 400 for a request that is not HTTP", async () => {
    const big = parseRaw(await raw(`GET /v1/things/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(20_000)}\r\n\r\n`));
    expect(big.status).toBe(431);
    expect(big.body.error.code).toBe("HEADERS_TOO_LARGE");
    const garbage = parseRaw(await raw("NOT HTTP AT ALL\r\n\r\n"));
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe("BAD_REQUEST");
  });
});
