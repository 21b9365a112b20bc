// SLA clocks in the console, in Debian's Chromium against the real stack with an SLA policy of seconds:
// the owner is told of the warning and the breach as they happen, and a supervisor finds the ticket among
// those at risk or breached and pauses and resumes its clocks from there.
// Screenshots are kept in test/browser/artifacts (git-ignored).
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";
import { bearer, generalistAgent, isolatedEnv, tokens } from "@steward/testkit";
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
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const WEB_CONFIG = fileURLToPath(new URL("../../services/console/web/vite.config.ts", import.meta.url));

const SECONDS_POLICY = fileURLToPath(new URL("../../services/escalation/policy/sla-policy.test-seconds.json", import.meta.url));
const t = isolatedEnv("browser-sla", { ESCALATION_POLICY_FILE: SECONDS_POLICY, ESCALATION_TIMER_POLL_MS: "250" });
let webDir = "";
let intake: RunningIntake;
let triage: RunningTriage;
let routing: RunningRouting;
let escalation: RunningEscalation;
let console_: RunningConsole;
let browser: Browser;
const supervisorGroups = generalistAgent("x", ["en"]).groups;

const json = async (method: string, body: unknown, token: Promise<string>) => ({
  method,
  headers: { "content-type": "application/json", ...(await bearer(token)) },
  body: JSON.stringify(body),
});

async function submit(externalId: string, subject: string, body: string, customer: { id: string; name: string }): Promise<string> {
  const res = await fetch(`${intake.httpUrl}/v1/tickets`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel: "email", externalId, customer, subject, body }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { ticketId: string }).ticketId;
}

async function signedIn(token: Promise<string>, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on("console", (m) => {
    if (m.type() === "error") process.stderr.write(`[browser] ${m.text()}\n`);
  });
  page.on("pageerror", (e) => process.stderr.write(`[browser] ${e.message}\n`));
  await page.goto(`${console_.httpUrl}/?token=${await token}`);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  webDir = await mkdtemp(join(tmpdir(), "steward-console-web-"));
  await build({ configFile: WEB_CONFIG, logLevel: "error", build: { outDir: webDir, emptyOutDir: true } });
  [intake, triage, routing, escalation] = await Promise.all([
    startIntake(loadIntakeConfig(t.env)),
    startTriage(loadTriageConfig(t.env)),
    startRouting(loadRoutingConfig(t.env)),
    startEscalation(loadEscalationConfig(t.env)),
  ]);
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
  const put = await fetch(`${routing.httpUrl}/v1/agents/ada`, await json("PUT", generalistAgent("Ada", ["en"]), tokens.admin()));
  expect(put.status).toBe(200);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.allSettled([console_?.close(), intake?.close(), triage?.close(), routing?.close(), escalation?.close()]);
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

describe("SLA clocks in the console", () => {
  it("tells the owner of the warning and the breach, and lets a supervisor pause and resume the clocks", async () => {
    const desk = await signedIn(tokens.agent("ada"));
    await desk.getByRole("region", { name: "Presence" }).getByText("Available", { exact: true }).click();
    await expect.poll(() => desk.getByRole("radio", { name: "Available" }).isChecked(), { timeout: 20_000 }).toBe(true);
    const ticketId = await submit("sla-1", "Where is my parcel", "My parcel has not arrived and the tracking has not moved for a week.", { id: "c-sla", name: "Kim Lee" });
    const offer = desk.getByTestId("offer").filter({ hasText: "Where is my parcel" });
    await offer.waitFor({ timeout: 60_000 });
    await offer.getByRole("button", { name: "Accept" }).click();
    // Nobody answers: the first-response clock of seconds runs out, and the owner hears it.
    const notices = desk.getByRole("region", { name: "Notifications" });
    await notices
      .getByText(/^SLA warning/)
      .first()
      .waitFor({ timeout: 60_000 });
    await notices
      .getByText(/^SLA breached/)
      .first()
      .waitFor({ timeout: 60_000 });
    await shot(desk, "agent-sla-notifications");

    const board = await signedIn(tokens.supervisor("sam", supervisorGroups));
    await board.getByRole("tab", { name: /At risk/ }).click();
    const row = board.getByRole("row").filter({ hasText: "Where is my parcel" });
    await row.waitFor({ timeout: 60_000 });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain("breached");
    await row.getByRole("button", { name: /^Pause SLA of ST-/ }).click();
    await row.getByRole("button", { name: /^Resume SLA of ST-/ }).waitFor({ timeout: 30_000 });
    const sla = async () =>
      ((await (await fetch(`${escalation.httpUrl}/v1/tickets/${ticketId}/sla`, { headers: await bearer(tokens.admin()) })).json()) as { view: { paused: boolean } | null }).view
        ?.paused;
    expect(await sla()).toBe(true);
    await shot(board, "supervisor-at-risk");
    await row.getByRole("button", { name: /^Resume SLA of ST-/ }).click();
    await row.getByRole("button", { name: /^Pause SLA of ST-/ }).waitFor({ timeout: 30_000 });
    expect(await sla()).toBe(false);
    await desk.close();
    await board.close();
  }, 240_000);
});
