// Composition root of the intake service.
import { runService } from "@steward/config/run";
import { loadIntakeConfig } from "./config.ts";
import { startIntake } from "./service.ts";

await runService("intake", () => startIntake(loadIntakeConfig()));
