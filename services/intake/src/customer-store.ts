// Customer records across channels: `intake_customers` (one record per person Steward knows, holding
// only hashed keys, never addresses or numbers) and `intake_customer_keys` (each hashed key -> its
// customer). Every read is by _id, the only lookup that stays fast on FerretDB/SQLite.
import { randomUUID } from "node:crypto";
import type { Collection, Db } from "@steward/store";
import { isDuplicateKeyError } from "@steward/store";
import type { IdentityKey, IdentityKind } from "./domain/customer-identity.ts";

export interface CustomerDoc {
  _id: string;
  /** The hashed keys linked to this customer (`email:<hmac>`, `phone:<hmac>`, ...). */
  keys: string[];
  /** Which kinds of key it has, for people reading the store: no values. */
  kinds: IdentityKind[];
  createdAt: Date;
  updatedAt: Date;
}

export interface CustomerKeyDoc {
  _id: string;
  customerId: string;
  kind: IdentityKind;
  createdAt: Date;
}

export class CustomerStore {
  readonly customers: Collection<CustomerDoc>;
  readonly keys: Collection<CustomerKeyDoc>;

  constructor(db: Db) {
    this.customers = db.collection<CustomerDoc>("intake_customers");
    this.keys = db.collection<CustomerKeyDoc>("intake_customer_keys");
  }

  /** A new customer's id (opaque: it says nothing about the person). */
  static newId(): string {
    return `cus-${randomUUID()}`;
  }

  /**
   * The customer the first known key (strongest first) belongs to (null for someone new), and the keys
   * no customer has yet: only those need linking, so a returning customer costs these reads only.
   */
  async find(keys: readonly IdentityKey[]): Promise<{ customerId: string | null; unlinked: IdentityKey[] }> {
    if (keys.length === 0) return { customerId: null, unlinked: [] };
    // One findOne per key, side by side: on FerretDB only a filter of exactly {_id} is an index look-up;
    // {_id: {$in: [...]}} scans the whole collection, which grows with every customer.
    const docs = await Promise.all(keys.map((k) => this.keys.findOne({ _id: k.key })));
    const found = new Map(docs.flatMap((f) => (f === null ? [] : [[f._id, f.customerId] as const])));
    const first = keys.find((k) => found.has(k.key));
    return { customerId: first === undefined ? null : (found.get(first.key) ?? null), unlinked: keys.filter((k) => !found.has(k.key)) };
  }

  /**
   * Links keys to a customer. A key already linked stays with its customer (the first to claim an
   * address keeps it; ADR 0012), so this only ever adds. Inserts are cheap on FerretDB where updates are
   * not: the customer's record is written only when a key was new to it.
   */
  async link(customerId: string, keys: readonly IdentityKey[], at: Date): Promise<void> {
    if (keys.length === 0) return;
    let added = keys;
    try {
      await this.keys.insertMany(
        keys.map((k) => ({ _id: k.key, customerId, kind: k.kind, createdAt: at })),
        { ordered: false },
      );
    } catch (err) {
      const taken = takenIndexes(err, keys.length);
      added = keys.filter((_, i) => !taken.has(i));
    }
    if (added.length === 0) return;
    try {
      await this.customers.insertOne({ _id: customerId, keys: added.map((k) => k.key), kinds: [...new Set(added.map((k) => k.kind))], createdAt: at, updatedAt: at });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      await this.customers.updateOne(
        { _id: customerId },
        { $addToSet: { keys: { $each: added.map((k) => k.key) }, kinds: { $each: [...new Set(added.map((k) => k.kind))] } }, $set: { updatedAt: at } },
      );
    }
  }

  get(customerId: string): Promise<CustomerDoc | null> {
    return this.customers.findOne({ _id: customerId });
  }
}

/** The positions an unordered insertMany refused as duplicates; any other failure is rethrown. */
function takenIndexes(err: unknown, count: number): Set<number> {
  const writeErrors = (err as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as Array<{ code?: number; index?: number; err?: { code?: number; index?: number } }>;
  if (list.length === 0) {
    if (isDuplicateKeyError(err) && count === 1) return new Set([0]);
    throw err;
  }
  const out = new Set<number>();
  for (const e of list) {
    const code = e.code ?? e.err?.code;
    const index = e.index ?? e.err?.index;
    if (code !== 11000 || index === undefined) throw err;
    out.add(index);
  }
  return out;
}
