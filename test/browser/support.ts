// What the console's browser tests share: the real stack (intake, triage, routing, escalation and the
// console, built by Vite, on the test broker and store), the agents they need, Debian's Chromium driven
// by playwright-core, and the few steps every test takes (submit a ticket, sign a person in, screenshot).
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";
import { bearer, generalistAgent, tokens, type TestEnv } from "@steward/testkit";
import { loadIntakeConfig } from "../../services/intake/src/config.ts";
import { startIntake, type RunningIntake } from "../../services/intake/src/service.ts";
import { loadTriageConfig } from "../../services/triage/src/config.ts";
import { startTriage, type RunningTriage } from "../../services/triage/src/service.ts";
import { loadRoutingConfig } from "../../services/routing/src/config.ts";
import { startRouting, type RunningRouting } from "../../services/routing/src/service.ts";
import { loadEscalationConfig } from "../../services/escalation/src/config.ts";
import { startEscalation, type RunningEscalation } from "../../services/escalation/src/service.ts";
import { loadConsoleConfig } from "../../services/console/src/config.ts";
import { startConsole, type RunningConsole } from "../../services/console/src/service.ts";

/** Debian's package; never a downloaded browser. */
const CHROMIUM = process.env["STEWARD_CHROMIUM"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
/** Screenshots (git-ignored); the README's come from here. */
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const WEB_CONFIG = fileURLToPath(new URL("../../services/console/web/vite.config.ts", import.meta.url));

/** The groups a generalist agent belongs to: the supervisor of the tests supervises them all. */
export const supervisorGroups = generalistAgent("x", ["en"]).groups;

/** An agent the routing service knows before the test starts. */
export interface StackAgent {
  id: string;
  name: string;
  languages: readonly string[];
}

export interface ConsoleStack {
  intake: RunningIntake;
  triage: RunningTriage;
  routing: RunningRouting;
  escalation: RunningEscalation;
  console: RunningConsole;
  browser: Browser;
  /** Submits an e-mail ticket to intake as a customer would; answers its id. */
  submit(externalId: string, subject: string, body: string, customer: { id: string; name: string }): Promise<string>;
  /** A new page signed in with `token`; the browser's errors go to stderr. */
  signedIn(token: Promise<string>, viewport?: { width: number; height: number }): Promise<Page>;
  shot(page: Page, name: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** Builds the console's web app, starts every service on `t` and the agents, then Chromium. */
export async function startConsoleStack(t: TestEnv, agents: readonly StackAgent[]): Promise<ConsoleStack> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const webDir = await mkdtemp(join(tmpdir(), "steward-console-web-"));
  await build({ configFile: WEB_CONFIG, logLevel: "error", build: { outDir: webDir, emptyOutDir: true } });
  const [intake, triage, routing, escalation] = await Promise.all([
    startIntake(loadIntakeConfig(t.env)),
    startTriage(loadTriageConfig(t.env)),
    startRouting(loadRoutingConfig(t.env)),
    startEscalation(loadEscalationConfig(t.env)),
  ]);
  let console_: RunningConsole | undefined;
  let browser: Browser;
  try {
    console_ = await startConsole(
      loadConsoleConfig({
        ...t.env,
        CONSOLE_HTTP_PORT: "0",
        CONSOLE_WEB_DIR: webDir,
        CONSOLE_INTAKE_URL: intake.httpUrl,
        CONSOLE_ROUTING_URL: routing.httpUrl,
        CONSOLE_ESCALATION_URL: escalation.httpUrl,
      }),
    );
    for (const agent of agents) {
      const put = await fetch(`${routing.httpUrl}/v1/agents/${agent.id}`, {
        method: "PUT",
        headers: { "content-type": "application/json", ...(await bearer(tokens.admin())) },
        body: JSON.stringify(generalistAgent(agent.name, [...agent.languages])),
      });
      expect(put.status).toBe(200);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    // Half a stack would keep the test run from ending: stop what started.
    await Promise.allSettled([console_?.close(), intake.close(), triage.close(), routing.close(), escalation.close()]);
    await rm(webDir, { recursive: true, force: true });
    throw err;
  }
  const consoleApp = console_;

  return {
    intake,
    triage,
    routing,
    escalation,
    console: consoleApp,
    browser,
    async submit(externalId, subject, body, customer) {
      const res = await fetch(`${intake.httpUrl}/v1/tickets`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel: "email", externalId, customer, subject, body }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { ticketId: string }).ticketId;
    },
    async signedIn(token, viewport = { width: 1280, height: 800 }) {
      const page = await browser.newPage({ viewport });
      page.on("console", (m) => {
        if (m.type() === "error") process.stderr.write(`[browser] ${m.text()}\n`);
      });
      page.on("pageerror", (e) => process.stderr.write(`[browser] ${e.message}\n`));
      await page.goto(`${consoleApp.httpUrl}/?token=${await token}`);
      return page;
    },
    shot: (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }),
    async close() {
      await browser.close();
      await Promise.allSettled([consoleApp.close(), intake.close(), triage.close(), routing.close(), escalation.close()]);
      await rm(webDir, { recursive: true, force: true });
    },
  };
}
