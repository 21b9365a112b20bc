// The reference people quote ("ST-7K3M-Q9XA"), derived from the ticket id exactly as intake derives it
// for the acknowledgement (a test holds the two together), so a customer's quote finds the ticket here.
import { createHash } from "node:crypto";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function ticketReference(ticketId: string): string {
  const digest = createHash("sha256").update(ticketId, "utf8").digest();
  let bits = 0n;
  for (let i = 0; i < 5; i += 1) bits = (bits << 8n) | BigInt(digest[i] ?? 0);
  let code = "";
  for (let i = 7; i >= 0; i -= 1) code += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
  return `ST-${code.slice(0, 4)}-${code.slice(4)}`;
}
