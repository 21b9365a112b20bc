// Audit records: who did a privileged action, to what, and what they were answered. Published on the
// audit topic after the answer, so a slow broker never holds a supervisor's request; a record that
// cannot be published is logged with everything but the request's content.
import { newEnvelope, type EventBus } from "@steward/messaging";
import { Topics } from "@steward/proto";
import type { Logger } from "@steward/telemetry";
import type { Principal } from "./principal.ts";

export interface AuditRecord {
  action: string;
  principal: Principal;
  resource: { type: string; id: string };
  status: number;
  transport: "http" | "grpc";
  at: Date;
}

export interface AuditSink {
  record(entry: AuditRecord): void;
}

export function kafkaAuditSink(bus: EventBus, producer: string, log?: Logger): AuditSink {
  return {
    record(entry) {
      const p = entry.principal;
      const envelope = newEnvelope(
        "auditRecorded",
        entry.resource.id,
        {
          principalType: p.type,
          principalId: p.id,
          roles: p.type === "user" ? [...p.roles] : [],
          action: entry.action,
          resourceType: entry.resource.type,
          resourceId: entry.resource.id,
          status: entry.status,
          transport: entry.transport,
        },
        producer,
        { occurredAt: entry.at },
      );
      bus.publish({ topic: Topics.audit, envelope }).catch((err: unknown) => {
        log?.error({ err, action: entry.action, principal: `${p.type}:${p.id}`, resource: entry.resource, status: entry.status }, "audit record could not be published");
      });
    },
  };
}
