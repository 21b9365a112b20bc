// Who may write on a ticket, and what: the owner answers the customer (public) or leaves internal notes;
// collaborators, brought in to help without taking the ticket, leave internal notes only. Pure: the
// gateway passes the ticket's owner and collaborators as it read them.
import { InvalidInputError, NotOwnerError } from "./errors.ts";

export const REPLY_VISIBILITIES = ["public", "internal"] as const;
export type ReplyVisibility = (typeof REPLY_VISIBILITIES)[number];

/** Longest reply body accepted (characters): the same bound as a customer's message at intake. */
export const MAX_REPLY_LENGTH = 20_000;

export interface ReplyParties {
  ownerId: string | null;
  collaborators: readonly string[];
}

/** The agents who may write a reply of this visibility on a ticket with these parties. */
export function mayWrite(parties: ReplyParties, visibility: ReplyVisibility): string[] {
  const owner = parties.ownerId === null ? [] : [parties.ownerId];
  return visibility === "public" ? owner : [...owner, ...parties.collaborators];
}

/** Throws NOT_OWNER when `agentId` may not write this reply, INVALID_INPUT for an empty or oversized body. */
export function checkReply(parties: ReplyParties, agentId: string, visibility: ReplyVisibility, body: string): void {
  const problems: string[] = [];
  if (body.trim() === "") problems.push("body must not be empty");
  if (body.length > MAX_REPLY_LENGTH) problems.push(`body must be at most ${MAX_REPLY_LENGTH} characters`);
  if (!(REPLY_VISIBILITIES as readonly string[]).includes(visibility)) problems.push("visibility must be public or internal");
  if (problems.length > 0) throw new InvalidInputError("reply", problems);
  if (mayWrite(parties, visibility).includes(agentId)) return;
  throw new NotOwnerError(
    visibility === "public" && parties.collaborators.includes(agentId)
      ? "only the ticket's owner answers the customer; a collaborator adds internal notes"
      : `${agentId} neither owns nor collaborates on this ticket`,
  );
}
