// One classification of what the store refused, so every service answers the same way: a unique index
// (409), a document the store cannot hold (400: the caller sent it), or a store that is briefly out of
// reach (503, retry). An invalid document retried in a loop used to come out as "contention".
import {
  BSON,
  MongoError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";

export type StoreRefusalKind = "conflict" | "invalid" | "transient";

/** Stable codes, one per kind; `statusCode` is the HTTP status the kind maps to. */
export const STORE_ERROR_CODES = { conflict: "STORE_CONFLICT", invalid: "STORE_INVALID_DOCUMENT", transient: "STORE_UNAVAILABLE" } as const;
const HTTP_STATUS: Record<StoreRefusalKind, number> = { conflict: 409, invalid: 400, transient: 503 };

/** A store refusal with its kind decided. `statusCode` and `headers` are read by @steward/http's error mapping. */
export class StoreRefusedError extends Error {
  readonly kind: StoreRefusalKind;
  readonly code: (typeof STORE_ERROR_CODES)[StoreRefusalKind];
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  constructor(kind: StoreRefusalKind, message: string, opts: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: opts.cause });
    this.name = "StoreRefusedError";
    this.kind = kind;
    this.code = STORE_ERROR_CODES[kind];
    this.statusCode = HTTP_STATUS[kind];
    this.headers = kind === "transient" ? { "retry-after": String(opts.retryAfterSeconds ?? 1) } : {};
  }
}

// Server codes for a document or key the store will not hold (BadValue, FailedToParse, TypeMismatch,
// DollarPrefixedFieldName, InvalidDBRef, EmptyFieldName, DottedFieldName, ImmutableField, BSONObjectTooLarge,
// InvalidIdField, and the update-path conflicts 40/16837). FerretDB answers with the same codes.
const INVALID_CODES = new Set([2, 9, 14, 40, 52, 55, 56, 57, 66, 10334, 16837, 17419, 17280, 53]);
// Server codes for a node that is stepping down, shutting down or unreachable: the same request can succeed later.
const TRANSIENT_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

const UNREACHABLE_NAMES = new Set([
  "MongoNetworkError",
  "MongoNetworkTimeoutError",
  "MongoPoolClearedError",
  "MongoServerSelectionError",
  "MongoNotConnectedError",
  "MongoTopologyClosedError",
]);
const NETWORK_LABELS = ["ResetPool", "PoolRequestedRetry", "InterruptInUseConnections"];

const SOCKET_FAILURES = new Set(["EPIPE", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

function isSocketFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && SOCKET_FAILURES.has(code);
}

/** Decides what kind of refusal `err` is; undefined for errors that are not the store's (bugs stay 500). */
export function classifyStoreError(err: unknown): StoreRefusedError | undefined {
  if (err instanceof StoreRefusedError) return err;
  if (err instanceof MongoServerError) {
    if (err.code === 11000) return new StoreRefusedError("conflict", "a record with the same key exists already", { cause: err });
    if (typeof err.code === "number" && INVALID_CODES.has(err.code))
      return new StoreRefusedError("invalid", "the store cannot keep this data (a name or value it does not allow)", { cause: err });
    if ((typeof err.code === "number" && TRANSIENT_CODES.has(err.code)) || err.hasErrorLabel("RetryableWriteError")) {
      return new StoreRefusedError("transient", "the store is briefly unavailable; try again", { cause: err });
    }
  }
  // (Network errors include timeouts and a cleared pool; the selection error covers "no primary".)
  if (err instanceof MongoNetworkError || err instanceof MongoServerSelectionError || err instanceof MongoNotConnectedError || err instanceof MongoTopologyClosedError) {
    return new StoreRefusedError("transient", "the store is unreachable; try again", { cause: err, retryAfterSeconds: 2 });
  }
  // A socket the driver was writing to died under it (seen as a bare EPIPE when the store is killed
  // mid-request): the store is out of reach, as above.
  if (isSocketFailure(err)) {
    return new StoreRefusedError("transient", "the store is unreachable; try again", { cause: err, retryAfterSeconds: 2 });
  }
  // The same driver errors seen by name: a process that loads the driver twice (an instrumentation hook
  // wrapping its module) gets errors whose class is not the one imported here; the fault campaign's store
  // kill answered 500 for "connection 17 to ... closed" and "connect ECONNREFUSED" that way.
  const name = (err as { name?: unknown } | null)?.name;
  if (err instanceof Error && typeof name === "string" && UNREACHABLE_NAMES.has(name)) {
    return new StoreRefusedError("transient", "the store is unreachable; try again", { cause: err, retryAfterSeconds: 2 });
  }
  // Any other driver error the driver marks as a dropped connection or a cleared pool (seen as 500s when the
  // store was killed under load in the fault campaign).
  if (err instanceof MongoError && !(err instanceof MongoServerError && err.code !== undefined) && NETWORK_LABELS.some((l) => err.hasErrorLabel(l))) {
    return new StoreRefusedError("transient", "the store is unreachable; try again", { cause: err, retryAfterSeconds: 2 });
  }
  // Wrapped (rethrown with the driver's error as its cause): as transient as what it wraps.
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (err instanceof Error && cause !== undefined && cause !== err && !(err instanceof MongoServerError)) {
    const inner = classifyStoreError(cause);
    if (inner?.kind === "transient") return new StoreRefusedError("transient", inner.message, { cause: err, retryAfterSeconds: 2 });
  }
  // Refused by the driver before it was sent: a key with NUL, an unserialisable value.
  if (err instanceof BSON.BSONError || err instanceof MongoInvalidArgumentError) {
    return new StoreRefusedError("invalid", "the store cannot keep this data (a name or value it does not allow)", { cause: err });
  }
  return undefined;
}
