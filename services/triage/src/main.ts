// Composition root of the triage service.
import { runService } from "@steward/config/run";
import { loadTriageConfig } from "./config.ts";
import { startTriage } from "./service.ts";

await runService("triage", () => startTriage(loadTriageConfig()));
