// Reflection and health on a real gRPC server bound to a free port: reflection lists the services the
// server carries, and health follows the readiness check both ways.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { addStandardServices, checkHealth, listServicesByReflection, type StandardServices } from "./grpc-standard.ts";
import { AgentDeskService } from "./index.ts";

let server: Server;
let standard: StandardServices;
let address: string;
let ready = true;

beforeAll(async () => {
  server = new Server();
  server.addService(AgentDeskService, {});
  standard = addStandardServices(server, { services: ["steward.v1.AgentDesk"], ready: async () => ready, pollMs: 60_000 });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  address = `127.0.0.1:${port}`;
});

afterAll(() => {
  standard.stop();
  server.forceShutdown();
});

describe("standard gRPC services", () => {
  it("lists the server's services by reflection", async () => {
    expect((await listServicesByReflection(address)).sort()).toEqual(["grpc.health.v1.Health", "steward.v1.AgentDesk"]);
  });

  it("reports SERVING while ready and NOT_SERVING when not", async () => {
    await standard.refresh();
    expect(await checkHealth(address)).toBe("SERVING");
    expect(await checkHealth(address, "steward.v1.AgentDesk")).toBe("SERVING");
    ready = false;
    await standard.refresh();
    expect(await checkHealth(address)).toBe("NOT_SERVING");
    ready = true;
    await standard.refresh();
    expect(await checkHealth(address)).toBe("SERVING");
  });
});
