// Access control for a gRPC service, the counterpart of http-access.ts: the same rules table (keyed by
// method name), the same token in the `authorization` metadata, every method wrapped so none can be
// served without a rule, and UNAUTHENTICATED / PERMISSION_DENIED with the stable code in
// `steward-error-code` and at the start of the message.
import { Metadata, status, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type ServiceError, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { decide, type AccessTable } from "./access-rules.ts";
import type { AuditSink } from "./audit.ts";
import { hasRole, type Principal } from "./principal.ts";
import { TokenRejectedError, type TokenVerifier } from "./token-verifier.ts";

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

const principals = new WeakMap<object, Principal>();

/** The principal a call was allowed as. */
export function grpcPrincipalOf(call: object): Principal {
  const p = principals.get(call);
  if (p === undefined) throw new Error("a gRPC call reached its handler without a principal");
  return p;
}

function refusal(grpc: status, code: string, message: string): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set("steward-error-code", code);
  return { code: grpc, details: `${code}: ${message}`, metadata };
}

const GRPC_TO_HTTP: Partial<Record<status, number>> = {
  [status.OK]: 200,
  [status.INVALID_ARGUMENT]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.ABORTED]: 409,
  [status.FAILED_PRECONDITION]: 409,
  [status.UNAVAILABLE]: 503,
};

export interface GrpcAccessOptions<Req> {
  rules: AccessTable<Req>;
  verifier: TokenVerifier;
  audit?: AuditSink;
}

/**
 * The implementation with every method behind its rule. Throws when a method of the service has no
 * rule, so a method added to the proto cannot be served open.
 */
export function secureGrpcService<Req>(definition: ServiceDefinition, impl: UntypedServiceImplementation, opts: GrpcAccessOptions<Req>): UntypedServiceImplementation {
  const secured: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const rule = opts.rules[name];
    if (rule === undefined) throw new Error(`gRPC method ${method.path} has no access rule; add one to the service's access table`);
    const handler = impl[name] as ((call: AnyCall, callback?: (err: Partial<ServiceError> | null, value?: unknown) => void) => void) | undefined;
    if (handler === undefined) throw new Error(`gRPC method ${method.path} has no implementation`);
    const admit = async (call: AnyCall): Promise<Partial<ServiceError> | undefined> => {
      const header = call.metadata.get("authorization")[0];
      let principal: Principal | undefined;
      if (typeof header === "string") {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!m?.[1]) return refusal(status.UNAUTHENTICATED, "UNAUTHENTICATED", "use authorization: Bearer <token>");
        try {
          principal = await opts.verifier.verify(m[1]);
        } catch (err) {
          if (err instanceof TokenRejectedError) return refusal(status.UNAUTHENTICATED, "UNAUTHENTICATED", err.message);
          throw err;
        }
      }
      const outcome = await decide(rule, principal, call.request as Req);
      if (!outcome.ok) return refusal(outcome.status === 401 ? status.UNAUTHENTICATED : status.PERMISSION_DENIED, outcome.code, outcome.message);
      if (principal !== undefined) principals.set(call, principal);
      return undefined;
    };
    const audited = (call: AnyCall, grpcStatus: status): void => {
      if (!("audit" in rule) || rule.audit === undefined || opts.audit === undefined) return;
      const principal = principals.get(call);
      if (principal === undefined) return;
      if (rule.audit.onlyRoles && !rule.audit.onlyRoles.some((r) => hasRole(principal, r))) return;
      opts.audit.record({
        action: rule.audit.action,
        principal,
        resource: rule.audit.resource(call.request as Req),
        status: GRPC_TO_HTTP[grpcStatus] ?? 500,
        transport: "grpc",
        at: new Date(),
      });
    };
    const internal = refusal(status.INTERNAL, "INTERNAL", "something went wrong on our side; the call can be retried");

    secured[name] = method.responseStream
      ? (call: ServerWritableStream<unknown, unknown>) => {
          admit(call).then(
            // "error" makes grpc-js send the status; destroy() would leave the client waiting.
            (refused) => (refused ? call.emit("error", refused) : handler(call)),
            () => call.emit("error", internal),
          );
        }
      : (call: ServerUnaryCall<unknown, unknown>, callback: (err: Partial<ServiceError> | null, value?: unknown) => void) => {
          admit(call).then(
            (refused) => {
              if (refused) return callback(refused);
              handler(call, (err, value) => {
                audited(call, err ? (err.code ?? status.UNKNOWN) : status.OK);
                callback(err, value);
              });
            },
            () => callback(internal),
          );
        };
  }
  return secured;
}
