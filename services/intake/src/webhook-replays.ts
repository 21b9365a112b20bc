// Signed webhook deliveries seen recently, so a captured request cannot be sent again within the
// signature's time window. One `_id` document per delivery; old ones are swept (no TTL indexes on
// FerretDB), and a delivery that failed on our side (5xx, 429) is released so the sender may retry it.
import { createHash } from "node:crypto";
import type { Collection, Db } from "@steward/store";
import { isDuplicateKeyError } from "@steward/store";

interface SeenDelivery {
  _id: string;
  seenAt: Date;
}

export class WebhookReplays {
  private readonly seen: Collection<SeenDelivery>;

  constructor(db: Db) {
    this.seen = db.collection<SeenDelivery>("intake_webhook_deliveries");
  }

  static keyOf(integrationId: string, deliveryId: string): string {
    return createHash("sha256").update(`${integrationId}\u0000${deliveryId}`).digest("hex");
  }

  /** Records a delivery; false when it was seen before (a replay). */
  async claim(key: string, now: Date): Promise<boolean> {
    try {
      await this.seen.insertOne({ _id: key, seenAt: now });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async release(key: string): Promise<void> {
    await this.seen.deleteOne({ _id: key });
  }

  /** Forgets deliveries older than `before`: their timestamps are outside the window and refused anyway. */
  async sweep(before: Date): Promise<number> {
    const res = await this.seen.deleteMany({ seenAt: { $lt: before } });
    return res.deletedCount;
  }
}
