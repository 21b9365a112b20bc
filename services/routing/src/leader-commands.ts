// Agent commands (accept, decline, resolve, reassign) run where the routing state is: on the leader, whose
// memory and log decide them (ADR 0014). Any instance takes them from agents and supervisors; one that is not
// the leader forwards the command, already authenticated and checked, to the leader's peer endpoint (found
// in the lease document) and answers with the leader's answer, errors included with their stable codes.
// The reads that decide who may do what (the ticket's owner, the offer's agent) are the leader's too: the
// store's snapshot trails it, and an owner must be able to resolve the ticket she accepted a moment ago.
// The peer endpoint is a separate listener on the internal network, guarded by a shared secret; it is not
// part of the public API.
import { timingSafeEqual, createHash } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import type { Logger } from "@steward/telemetry";
import { RoutingDomainError, ROUTING_ERROR_CODES, type RoutingErrorCode } from "./domain/index.ts";
import { GatewayError, HTTP_STATUS, type GatewayErrorCode } from "./routing-errors.ts";
import { NotLeaderError, type LoggedState } from "./logged-state.ts";
import type { RoutingStore, TicketDoc } from "./routing-store.ts";
import type { TicketLedger } from "./ticket-ledger.ts";

export interface RoutingCommands {
  ticket(ticketId: string): Promise<TicketDoc | null>;
  offerAgent(offerId: string): Promise<string | null>;
  accept(offerId: string, agentId: string): Promise<{ ticketId: string }>;
  decline(offerId: string, agentId: string, reason: string): Promise<void>;
  resolve(ticketId: string, agentId: string): Promise<void>;
  reassign(ticketId: string, supervisorId: string, toAgentId: string, reason: string): Promise<{ ownerId: string; heldForOwner: boolean }>;
}

type Op = keyof RoutingCommands | "ticket" | "offerAgent";
const OPS: readonly Op[] = ["accept", "decline", "resolve", "reassign", "ticket", "offerAgent"];

interface PeerAnswer {
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string };
}

export interface LeaderCommandsDeps {
  ledger: TicketLedger;
  /** The leader's logged state; null when the store decides (every instance runs commands itself). */
  state: LoggedState | null;
  store: RoutingStore;
  secret: string;
  log: Logger;
  /** How long a forwarded command may take (ms). */
  timeoutMs?: number;
  /** How long a command waits for a leader during a change of leader before 503 LEADER_UNAVAILABLE (ms). */
  waitForLeaderMs?: number;
}

const LEASE_CACHE_MS = 500;

class PeerUnreachable extends Error {}

export class LeaderCommands implements RoutingCommands {
  readonly #d: LeaderCommandsDeps;
  #leader: { url: string | null; at: number } = { url: null, at: 0 };

  constructor(deps: LeaderCommandsDeps) {
    this.#d = deps;
  }

  accept(offerId: string, agentId: string): Promise<{ ticketId: string }> {
    return this.#run("accept", [offerId, agentId]) as Promise<{ ticketId: string }>;
  }

  decline(offerId: string, agentId: string, reason: string): Promise<void> {
    return this.#run("decline", [offerId, agentId, reason]) as Promise<void>;
  }

  resolve(ticketId: string, agentId: string): Promise<void> {
    return this.#run("resolve", [ticketId, agentId]) as Promise<void>;
  }

  reassign(ticketId: string, supervisorId: string, toAgentId: string, reason: string): Promise<{ ownerId: string; heldForOwner: boolean }> {
    return this.#run("reassign", [ticketId, supervisorId, toAgentId, reason]) as Promise<{ ownerId: string; heldForOwner: boolean }>;
  }

  /** The ticket as the leader knows it (null: no such ticket). */
  ticket(ticketId: string): Promise<TicketDoc | null> {
    return this.#run("ticket", [ticketId]) as Promise<TicketDoc | null>;
  }

  /** The agent an offer went to, as the leader knows it (null: no such offer). */
  offerAgent(offerId: string): Promise<string | null> {
    return this.#run("offerAgent", [offerId]) as Promise<string | null>;
  }

  /** Runs a command here (the peer endpoint calls this on the leader). */
  async local(op: Op, args: readonly string[]): Promise<unknown> {
    const { ledger, state } = this.#d;
    // Holding the lease is not enough: until the take-over has replayed the log, this instance's reads would
    // come from the store's snapshot, and a decision on it (an offer "not found", an accept "expired") would
    // be wrong. The caller retries.
    if (state !== null && !state.active) throw new GatewayError("LEADER_UNAVAILABLE", "routing is changing leader; try again in a moment");
    try {
      switch (op) {
        case "accept":
          return await ledger.accept(args[0] as string, args[1] as string);
        case "decline":
          return await ledger.decline(args[0] as string, args[1] as string, args[2] as string);
        case "resolve":
          return await ledger.resolve(args[0] as string, args[1] as string);
        case "reassign":
          return await ledger.reassign(args[0] as string, args[1] as string, args[2] as string, args[3] as string);
        case "ticket":
          return await ledger.store.getTicket(args[0] as string);
        case "offerAgent":
          return await ledger.offerAgent(args[0] as string);
      }
    } catch (err) {
      if (err instanceof NotLeaderError) throw new GatewayError("LEADER_UNAVAILABLE", "routing is changing leader; try again in a moment");
      throw err;
    }
  }

  /**
   * Runs the command on the leader: here when this instance leads, otherwise through the leader's peer
   * endpoint. While the leader changes (none named, unreachable, or still rebuilding) the command is tried
   * again until `waitForLeaderMs` has passed: every command is idempotent on the leader (a repeated accept or
   * resolve is answered as the first was), so a command whose answer was lost with a dying leader is
   * answered by its successor.
   */
  async #run(op: Op, args: readonly string[]): Promise<unknown> {
    const state = this.#d.state;
    if (state === null) return this.local(op, args);
    const deadline = Date.now() + (this.#d.waitForLeaderMs ?? 10_000);
    let refresh = false;
    for (;;) {
      try {
        if (state.active) return await this.local(op, args);
        const url = await this.#leaderUrl(refresh);
        if (url === null) throw new GatewayError("LEADER_UNAVAILABLE", "no routing leader is named; try again in a moment");
        return await this.#forward(url, op, args);
      } catch (err) {
        const retry = err instanceof PeerUnreachable || (err instanceof GatewayError && err.code === "LEADER_UNAVAILABLE");
        if (!retry || Date.now() > deadline)
          throw err instanceof PeerUnreachable ? new GatewayError("LEADER_UNAVAILABLE", "no routing leader is answering; try again in a moment") : err;
        refresh = true;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async #forward(url: string, op: Op, args: readonly string[]): Promise<unknown> {
    let answer: PeerAnswer;
    try {
      const res = await fetch(`${url}/peer/v1/commands/${op}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.#d.secret}` },
        body: JSON.stringify({ args }),
        signal: AbortSignal.timeout(this.#d.timeoutMs ?? 5_000),
      });
      answer = (await res.json()) as PeerAnswer;
    } catch (err) {
      this.#d.log.warn({ err, op, url }, "routing leader unreachable");
      throw new PeerUnreachable();
    }
    if (answer.ok) return answer.value;
    throw errorOf(answer.error);
  }

  async #leaderUrl(refresh: boolean): Promise<string | null> {
    const now = Date.now();
    if (!refresh && this.#leader.url !== null && now - this.#leader.at < LEASE_CACHE_MS) return this.#leader.url;
    const lease = await this.#d.store.getLease();
    const url = lease !== null && lease.leaseUntil > now && lease.url ? lease.url : null;
    this.#leader = { url, at: now };
    return url;
  }
}

/** The leader's error again, with its stable code, so this instance answers exactly as the leader would have. */
function errorOf(error: PeerAnswer["error"]): Error {
  const code = error?.code ?? "";
  const message = error?.message ?? "the routing leader refused the command";
  if ((ROUTING_ERROR_CODES as readonly string[]).includes(code)) return new RoutingDomainError(code as RoutingErrorCode, message);
  if (code in HTTP_STATUS) return new GatewayError(code as GatewayErrorCode, message);
  return new GatewayError("LEADER_UNAVAILABLE", message);
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The peer endpoint: other instances' forwarded commands, answered by this instance's ledger. */
export async function startPeerServer(opts: {
  commands: LeaderCommands;
  host: string;
  port: number;
  secret: string;
  log: Logger;
}): Promise<{ port: number; app: FastifyInstance }> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.post<{ Params: { op: string }; Body: { args: string[] } }>(
    "/peer/v1/commands/:op",
    {
      schema: {
        params: { type: "object", required: ["op"], properties: { op: { type: "string", enum: [...OPS] } } },
        body: { type: "object", required: ["args"], properties: { args: { type: "array", maxItems: 4, items: { type: "string", maxLength: 4000 } } } },
      },
    },
    async (req, reply) => {
      const auth = req.headers.authorization ?? "";
      if (!auth.startsWith("Bearer ") || !sameSecret(auth.slice(7), opts.secret))
        return reply.code(401).send({ ok: false, error: { code: "UNAUTHENTICATED", message: "peer secret missing or wrong" } });
      try {
        const value = await opts.commands.local(req.params.op as Op, req.body.args);
        return { ok: true, value: value ?? null };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === "string" && (code in HTTP_STATUS || (ROUTING_ERROR_CODES as readonly string[]).includes(code))) {
          return { ok: false, error: { code, message: (err as Error).message } };
        }
        opts.log.error({ err, op: req.params.op }, "forwarded routing command failed");
        return { ok: false, error: { code: "LEADER_UNAVAILABLE", message: "the routing leader could not run the command; try again" } };
      }
    },
  );
  await app.listen({ host: opts.host, port: opts.port });
  const address = app.server.address();
  return { port: typeof address === "object" && address !== null ? address.port : opts.port, app };
}
