// The tickets this process last wrote or read, newest version each (see VersionedCache): the ledger and
// the matcher start from it instead of reading; the version guard on every write catches a stale copy.
import { VersionedCache } from "@steward/store";
import type { TicketDoc } from "./routing-store.ts";

export class TicketCache extends VersionedCache<TicketDoc> {
  constructor(limit = 5_000) {
    super((doc) => doc.version, limit);
  }
}
