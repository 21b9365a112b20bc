// ./steward start's options, and that --rate 0 really sends nothing (it used to fire every millisecond).
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStartOptions } from "./start-options.ts";
import { runSimulatedTraffic } from "./simulation.ts";

describe("parseStartOptions", () => {
  it("defaults to sample agents, half a ticket a second, a clean slate, no time limit", () => {
    expect(parseStartOptions([])).toEqual({ duration: 0, rate: 0.5, sampleAgents: true, keepData: false });
  });

  it("reads every option", () => {
    expect(parseStartOptions(["--rate", "0", "--no-sample-agents", "--duration", "60", "--keep-data"])).toEqual({ duration: 60, rate: 0, sampleAgents: false, keepData: true });
  });

  it("refuses bad numbers and unknown options with the usage", () => {
    expect(() => parseStartOptions(["--rate"])).toThrow(/--rate needs a number >= 0, got nothing/);
    expect(() => parseStartOptions(["--rate", "-1"])).toThrow(/--rate needs a number/);
    expect(() => parseStartOptions(["--duration", "soon"])).toThrow(/--duration needs a number/);
    expect(() => parseStartOptions(["--rates", "2"])).toThrow(/unknown option --rates\nusage: \.\/steward start/);
  });
});

describe("runSimulatedTraffic", () => {
  let server: Server;
  let intake = "";
  let posts = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      posts += 1;
      req.resume();
      res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ ticketId: `t-${posts}` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address();
    intake = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("sends nothing at rate 0", async () => {
    posts = 0;
    const traffic = runSimulatedTraffic({ intake, ratePerSecond: 0, log: () => {} });
    await new Promise((r) => setTimeout(r, 300));
    traffic.stop();
    expect(posts).toBe(0);
    expect(traffic.sent()).toBe(0);
  });

  it("sends tickets at a positive rate", async () => {
    posts = 0;
    const traffic = runSimulatedTraffic({ intake, ratePerSecond: 20, log: () => {} });
    await new Promise((r) => setTimeout(r, 400));
    traffic.stop();
    expect(posts).toBeGreaterThan(0);
  });
});
