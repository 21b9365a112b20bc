// The standard services every Steward gRPC server carries besides its own: server reflection, so grpcurl
// and other tools discover the API from the running server, and grpc.health.v1.Health, SERVING exactly
// while the service's readiness check passes. Descriptors come from the .proto files themselves (ADR 0007).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, loadPackageDefinition, type Server, type ServiceError } from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";

/** proto/, where the steward/v1/*.proto files live (resolved from this module, not the working directory). */
export const PROTO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const STEWARD_PROTO_FILES = ["steward/v1/common.proto", "steward/v1/events.proto", "steward/v1/intake.proto", "steward/v1/agent_desk.proto"] as const;
export const HEALTH_SERVICE = "grpc.health.v1.Health";

let definition: PackageDefinition | undefined;

/** Every Steward message and service, plus the health service, as proto-loader descriptors (loaded once). */
export function stewardPackageDefinition(): PackageDefinition {
  definition ??= loadSync([...STEWARD_PROTO_FILES, healthProtoPath], { includeDirs: [PROTO_ROOT], keepCase: false, longs: Number, enums: String, defaults: true });
  return definition;
}

export interface StandardServices {
  /** Re-runs the readiness check now and updates the health status. */
  refresh(): Promise<void>;
  /** Stops polling readiness; statuses go NOT_SERVING so watchers learn the server is going away. */
  stop(): void;
}

/**
 * Adds reflection (listing `services` and the health service) and health to `server`; call before binding.
 * Health is polled from `ready` every `pollMs` and applies to the whole server ("") and to each service.
 */
export function addStandardServices(server: Server, opts: { services: readonly string[]; ready: () => Promise<boolean>; pollMs?: number }): StandardServices {
  const names = ["", ...opts.services];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, "NOT_SERVING" as const])));
  health.addToServer(server);
  new ReflectionService(stewardPackageDefinition(), { services: [...opts.services, HEALTH_SERVICE] }).addToServer(server);
  let stopped = false;
  const refresh = async (): Promise<void> => {
    const ok = await opts.ready().catch(() => false);
    if (stopped) return;
    for (const n of names) health.setStatus(n, ok ? "SERVING" : "NOT_SERVING");
  };
  void refresh();
  const timer = setInterval(() => void refresh(), opts.pollMs ?? 5_000);
  timer.unref();
  return {
    refresh,
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const n of names) health.setStatus(n, "NOT_SERVING");
    },
  };
}

// ---- client side, for tests and tools -------------------------------------------------------------------

type Unary = (req: object, cb: (err: ServiceError | null, res: Record<string, unknown>) => void) => void;
interface GrpcClient {
  close(): void;
  [method: string]: unknown;
}

const require = createRequire(import.meta.url);
let clients: Record<string, unknown> | undefined;

function clientPackages(): Record<string, unknown> {
  const reflectionProto = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto/grpc/reflection/v1/reflection.proto");
  clients ??= loadPackageDefinition(loadSync([reflectionProto, healthProtoPath], { keepCase: false, longs: Number, enums: String, defaults: true })) as Record<string, unknown>;
  return clients;
}

function clientFor(path: string, address: string): GrpcClient {
  let node: unknown = clientPackages();
  for (const part of path.split(".")) node = (node as Record<string, unknown>)[part];
  const Ctor = node as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => GrpcClient;
  return new Ctor(address, credentials.createInsecure());
}

/** The services a server lists by reflection (grpc.reflection.v1 ServerReflectionInfo, list_services). */
export function listServicesByReflection(address: string): Promise<string[]> {
  const client = clientFor("grpc.reflection.v1.ServerReflection", address);
  return new Promise<string[]>((resolve, reject) => {
    const call = (client["serverReflectionInfo"] as () => NodeJS.EventEmitter & { write(m: object): void; end(): void }).call(client);
    call.on("data", (res: { listServicesResponse?: { service: Array<{ name: string }> }; errorResponse?: { errorMessage: string } }) => {
      if (res.errorResponse) reject(new Error(res.errorResponse.errorMessage));
      else resolve((res.listServicesResponse?.service ?? []).map((s) => s.name));
      call.end();
    });
    call.on("error", reject);
    call.write({ listServices: "" });
  }).finally(() => client.close());
}

/** grpc.health.v1.Health/Check for `service` ("" = the whole server): SERVING, NOT_SERVING, ... */
export function checkHealth(address: string, service = ""): Promise<string> {
  const client = clientFor(HEALTH_SERVICE, address);
  return new Promise<string>((resolve, reject) => {
    (client["check"] as Unary).call(client, { service }, (err, res) => (err ? reject(err) : resolve(String(res["status"]))));
  }).finally(() => client.close());
}
