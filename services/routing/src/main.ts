// Composition root of the routing service (matching, ownership and the agent gateway).
import { runService } from "@steward/config/run";
import { loadRoutingConfig } from "./config.ts";
import { startRouting } from "./service.ts";

await runService("routing", () => startRouting(loadRoutingConfig()));
