// Composition root of the escalation service.
import { runService } from "@steward/config/run";
import { loadEscalationConfig } from "./config.ts";
import { startEscalation } from "./service.ts";

await runService("escalation", () => startEscalation(loadEscalationConfig()));
