// Each outbound message's delivery record, by delivery id: the attempts made so far (kept across
// restarts, so the dead letter comes after N attempts in all, not N per process) and whether it ended.
// A message whose record says delivered is never sent again, even when Kafka hands it to us again.
import type { Collection, Db } from "@steward/store";

export type DeliveryStatus = "sending" | "retrying" | "delivered" | "failed";

export interface OutboundDeliveryDoc {
  _id: string;
  ticketId: string;
  integrationId: string;
  attempts: number;
  status: DeliveryStatus;
  reason: string | null;
  /** Epoch ms before which the next attempt waits (retrying only). */
  nextAttemptAt: number | null;
  updatedAt: Date;
}

export class OutboundDeliveries {
  readonly deliveries: Collection<OutboundDeliveryDoc>;

  constructor(db: Db) {
    this.deliveries = db.collection<OutboundDeliveryDoc>("intake_outbound_deliveries");
  }

  get(deliveryId: string): Promise<OutboundDeliveryDoc | null> {
    return this.deliveries.findOne({ _id: deliveryId });
  }

  /** Records an attempt before it is made: a crash mid-request still counts it. */
  async startAttempt(deliveryId: string, ticketId: string, integrationId: string, attempt: number, at: Date): Promise<void> {
    await this.deliveries.updateOne(
      { _id: deliveryId },
      { $set: { ticketId, integrationId, attempts: attempt, status: "sending", reason: null, nextAttemptAt: null, updatedAt: at } },
      { upsert: true },
    );
  }

  async finishAttempt(deliveryId: string, status: Exclude<DeliveryStatus, "sending">, reason: string | null, nextAttemptAt: number | null, at: Date): Promise<void> {
    await this.deliveries.updateOne({ _id: deliveryId }, { $set: { status, reason, nextAttemptAt, updatedAt: at } });
  }
}
