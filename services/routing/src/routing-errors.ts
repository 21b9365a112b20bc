// Errors the routing adapters raise besides the domain's (which carry their own stable codes), and the one
// table that maps every code routing answers with to an HTTP status.
import { ROUTING_ERROR_CODES, type RoutingErrorCode } from "./domain/index.ts";

export type GatewayErrorCode = "OFFER_NOT_YOURS" | "OFFER_CLOSED" | "AGENT_REQUIRED" | "SUPERVISOR_REQUIRED" | "STORE_CONTENTION" | "LEADER_UNAVAILABLE";

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  constructor(code: GatewayErrorCode, message: string) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
  }
}

export const HTTP_STATUS: Readonly<Record<RoutingErrorCode | GatewayErrorCode, number>> = {
  OWNERSHIP_CONFLICT: 409,
  NOT_OWNER: 403,
  REASON_REQUIRED: 400,
  TICKET_NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  TICKET_NOT_WAITING: 409,
  TICKET_NOT_OWNED: 409,
  TICKET_NOT_RESOLVED: 409,
  OFFER_NOT_FOUND: 404,
  OFFER_EXPIRED: 409,
  OFFER_NOT_EXPIRED: 409,
  OFFER_LIMIT_REACHED: 409,
  CAPACITY_EXCEEDED: 409,
  AGENT_NOT_AVAILABLE: 409,
  INVALID_INPUT: 400,
  OFFER_NOT_YOURS: 403,
  OFFER_CLOSED: 409,
  AGENT_REQUIRED: 400,
  SUPERVISOR_REQUIRED: 400,
  STORE_CONTENTION: 503,
  /** Routing is changing leader (or none answers): retry shortly. */
  LEADER_UNAVAILABLE: 503,
};

// Every domain code has a status (checked at load, so a code added to the domain cannot go unmapped).
for (const code of ROUTING_ERROR_CODES) {
  if (!(code in HTTP_STATUS)) throw new Error(`routing error code ${code} has no HTTP status`);
}
