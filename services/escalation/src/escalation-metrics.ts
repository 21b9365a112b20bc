// Escalation's Prometheus series: SLA warnings and breaches raised, and notifications sent to owners and
// supervisors. Counted where an action's events are published, so a retried action counts once.
import { Counter, type Registry } from "@steward/telemetry";
import { Topics } from "@steward/proto";
import type { SlaEffect } from "./domain/index.ts";

export interface EscalationMetrics {
  /** One due action's events reached Kafka. */
  actionPublished(effect: SlaEffect["type"], events: ReadonlyArray<{ topic: string }>): void;
}

export function createEscalationMetrics(registry: Registry): EscalationMetrics {
  const registers = [registry];
  const warnings = new Counter({ name: "steward_sla_warnings_total", help: "SLA warnings raised (a target is at risk)", registers });
  const breaches = new Counter({ name: "steward_sla_breaches_total", help: "SLA breaches (a target was missed)", registers });
  const notifications = new Counter({ name: "steward_escalation_notifications_total", help: "Outbound notifications produced for owners and supervisors", registers });
  return {
    actionPublished(effect, events) {
      if (effect === "slaWarning") warnings.inc();
      if (effect === "slaBreach") breaches.inc();
      const sent = events.filter((e) => e.topic === Topics.outbound).length;
      if (sent > 0) notifications.inc(sent);
    },
  };
}
