// Domain errors of routing and ownership: named classes with a stable `code` that adapters map to HTTP and
// gRPC statuses in one place. Messages are for humans; callers branch on `code` only.

export const ROUTING_ERROR_CODES = [
  "OWNERSHIP_CONFLICT",
  "NOT_OWNER",
  "REASON_REQUIRED",
  "TICKET_NOT_FOUND",
  "AGENT_NOT_FOUND",
  "TICKET_NOT_WAITING",
  "TICKET_NOT_OWNED",
  "TICKET_NOT_RESOLVED",
  "OFFER_NOT_FOUND",
  "OFFER_EXPIRED",
  "OFFER_NOT_EXPIRED",
  "OFFER_LIMIT_REACHED",
  "CAPACITY_EXCEEDED",
  "AGENT_NOT_AVAILABLE",
  "INVALID_INPUT",
] as const;
export type RoutingErrorCode = (typeof ROUTING_ERROR_CODES)[number];

export class RoutingDomainError extends Error {
  readonly code: RoutingErrorCode;
  constructor(code: RoutingErrorCode, message: string) {
    super(message);
    this.name = "RoutingDomainError";
    this.code = code;
  }
}

/** An agent tried to hand their ticket to someone else, or to take someone else's: only a supervisor reassigns. */
export class OwnershipConflictError extends RoutingDomainError {
  constructor(message: string) {
    super("OWNERSHIP_CONFLICT", message);
    this.name = "OwnershipConflictError";
  }
}

export class NotOwnerError extends RoutingDomainError {
  constructor(message: string) {
    super("NOT_OWNER", message);
    this.name = "NotOwnerError";
  }
}

export class ReasonRequiredError extends RoutingDomainError {
  constructor(message: string) {
    super("REASON_REQUIRED", message);
    this.name = "ReasonRequiredError";
  }
}

export class TicketNotFoundError extends RoutingDomainError {
  constructor(ticketId: string) {
    super("TICKET_NOT_FOUND", `ticket ${ticketId} is not known to the routing engine`);
    this.name = "TicketNotFoundError";
  }
}

export class AgentNotFoundError extends RoutingDomainError {
  constructor(agentId: string) {
    super("AGENT_NOT_FOUND", `agent ${agentId} is not known to the routing engine`);
    this.name = "AgentNotFoundError";
  }
}

/** The ticket is in the wrong lifecycle state for the request (e.g. accepting an offer on an owned ticket). */
export class TicketStateError extends RoutingDomainError {
  constructor(code: "TICKET_NOT_WAITING" | "TICKET_NOT_OWNED" | "TICKET_NOT_RESOLVED", message: string) {
    super(code, message);
    this.name = "TicketStateError";
  }
}

export class OfferError extends RoutingDomainError {
  constructor(code: "OFFER_NOT_FOUND" | "OFFER_EXPIRED" | "OFFER_NOT_EXPIRED" | "OFFER_LIMIT_REACHED", message: string) {
    super(code, message);
    this.name = "OfferError";
  }
}

export class CapacityExceededError extends RoutingDomainError {
  constructor(message: string) {
    super("CAPACITY_EXCEEDED", message);
    this.name = "CapacityExceededError";
  }
}

export class AgentNotAvailableError extends RoutingDomainError {
  constructor(message: string) {
    super("AGENT_NOT_AVAILABLE", message);
    this.name = "AgentNotAvailableError";
  }
}

export class InvalidInputError extends RoutingDomainError {
  readonly problems: readonly string[];
  constructor(subject: string, problems: readonly string[]) {
    super("INVALID_INPUT", `invalid ${subject}: ${problems.join("; ")}`);
    this.name = "InvalidInputError";
    this.problems = problems;
  }
}
