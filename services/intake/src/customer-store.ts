// Customer records across channels: `intake_customers` (one record per person Steward knows, holding
// only hashed keys, never addresses or numbers) and `intake_customer_keys` (each hashed key -> its
// customer). Every read is by _id, the only lookup that stays fast on FerretDB/SQLite.
import { randomUUID } from "node:crypto";
import type { Collection, Db } from "@steward/store";
import { duplicateIndexes } from "@steward/store";
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
  link(customerId: string, keys: readonly IdentityKey[], at: Date): Promise<void> {
    return this.linkMany([{ customerId, keys, at }]);
  }

  /** link for several customers with one insert of keys and one of records (updates only for records that existed). */
  async linkMany(links: ReadonlyArray<{ customerId: string; keys: readonly IdentityKey[]; at: Date }>): Promise<void> {
    const keyDocs = links.flatMap((l) => l.keys.map((k) => ({ _id: k.key, customerId: l.customerId, kind: k.kind, createdAt: l.at })));
    if (keyDocs.length === 0) return;
    let taken = new Set<number>();
    try {
      await this.keys.insertMany(keyDocs, { ordered: false });
    } catch (err) {
      taken = new Set(duplicateIndexes(err, keyDocs.length));
    }
    // What each customer gained, in the order first seen.
    const added = new Map<string, { keys: string[]; kinds: Set<IdentityKind>; at: Date }>();
    keyDocs.forEach((k, i) => {
      if (taken.has(i)) return;
      const a = added.get(k.customerId) ?? { keys: [], kinds: new Set<IdentityKind>(), at: k.createdAt };
      a.keys.push(k._id);
      a.kinds.add(k.kind);
      added.set(k.customerId, a);
    });
    const records = [...added].map(([id, a]) => ({ _id: id, keys: a.keys, kinds: [...a.kinds], createdAt: a.at, updatedAt: a.at }));
    if (records.length === 0) return;
    let existing: number[] = [];
    try {
      await this.customers.insertMany(records, { ordered: false });
    } catch (err) {
      existing = duplicateIndexes(err, records.length);
    }
    for (const i of existing) {
      const r = records[i] as CustomerDoc;
      await this.customers.updateOne({ _id: r._id }, { $addToSet: { keys: { $each: r.keys }, kinds: { $each: r.kinds } }, $set: { updatedAt: r.updatedAt } });
    }
  }

  get(customerId: string): Promise<CustomerDoc | null> {
    return this.customers.findOne({ _id: customerId });
  }
}
