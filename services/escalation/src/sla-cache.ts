// The SLA documents this instance wrote or read last, newest revision each (see VersionedCache), so the
// next write of a ticket needs no read first; every write is conditional on the revision.
import { VersionedCache } from "@steward/store";
import type { SlaDoc } from "./sla-store.ts";

export class SlaCache extends VersionedCache<SlaDoc> {
  constructor(capacity = 20_000) {
    super((doc) => doc.rev, capacity);
  }
}
