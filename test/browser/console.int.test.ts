// The console in a real browser (Debian's Chromium driven by playwright-core) against the real stack:
// intake, triage, routing, escalation and the console on the test broker and store. A supervisor sees a
// queue grow while nobody is available; an agent signs in, goes available, receives an offer, accepts,
// replies and resolves; a Hebrew ticket renders right to left; the supervisor reassigns it with a reason.
// Screenshots are kept in test/browser/artifacts (git-ignored); the README's come from here.
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";
import { bearer, generalistAgent, isolatedEnv, tokens, waitFor } from "@steward/testkit";
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

const t = isolatedEnv("browser");
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
  for (const [id, name, languages] of [
    ["ada", "Ada", ["en", "he"]],
    ["bo", "Bo", ["en"]],
  ] as const) {
    const put = await fetch(`${routing.httpUrl}/v1/agents/${id}`, await json("PUT", generalistAgent(name, [...languages]), tokens.admin()));
    expect(put.status).toBe(200);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await Promise.allSettled([console_?.close(), intake?.close(), triage?.close(), routing?.close(), escalation?.close()]);
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

describe("the console in a browser", () => {
  let englishId = "";
  let hebrewId = "";

  it("shows a supervisor the queue growing while nobody is available", async () => {
    const page = await signedIn(tokens.supervisor("sam", supervisorGroups));
    await expect.poll(() => page.getByRole("tab", { name: "Queues" }).isVisible(), { timeout: 20_000 }).toBe(true);
    const waiting = async () => {
      const cells = await page.getByTestId("waiting").allTextContents();
      return cells.reduce((n, c) => n + Number(c), 0);
    };
    englishId = await submit("br-1", "Refund for a double charge", "Hello, you charged my card twice for order 5521. Please refund the second payment.", {
      id: "c-en",
      name: "Sam Carter",
    });
    await expect.poll(waiting, { timeout: 60_000 }).toBe(1);
    hebrewId = await submit("br-2", "חיוב כפול בחשבונית", "שלום, חויבתי פעמיים על אותה הזמנה. אפשר להחזיר לי את הכסף?", { id: "c-he", name: "נועה לוי" });
    await expect.poll(waiting, { timeout: 60_000 }).toBe(2);
    await shot(page, "supervisor-queues");
    await page.close();
  }, 180_000);

  it("lets an agent sign in, go available, accept an offer, reply and resolve", async () => {
    const page = await signedIn(tokens.agent("ada"));
    await expect.poll(() => page.getByTestId("signed-in-as").textContent(), { timeout: 20_000 }).toBe("ada");
    await page.getByRole("region", { name: "Presence" }).getByText("Available", { exact: true }).click();
    await expect.poll(() => page.getByRole("radio", { name: "Available" }).isChecked()).toBe(true);
    const offer = page.getByTestId("offer").filter({ hasText: "Refund for a double charge" });
    await offer.waitFor({ timeout: 60_000 });
    await expect.poll(() => offer.textContent()).toMatch(/expires in \d/);
    await shot(page, "agent-offer");
    await offer.getByRole("button", { name: "Accept" }).click();
    const panel = page.getByRole("region", { name: /^Ticket / });
    await panel.getByText("you charged my card twice").waitFor({ timeout: 30_000 });
    await page.getByLabel("Reply", { exact: true }).fill("Sorry about that: the second charge is refunded, you will see it in 3 days.");
    await page.getByRole("button", { name: "Send" }).click();
    await panel.getByText("the second charge is refunded").waitFor({ timeout: 30_000 });
    await shot(page, "agent-desk");
    await panel.getByRole("button", { name: "Resolve" }).click();
    await waitFor(
      async () => {
        const v = (await (await fetch(`${intake.httpUrl}/v1/tickets/${englishId}`, { headers: await bearer(tokens.admin()) })).json()) as {
          status: string;
          messages: Array<{ from: string }>;
        };
        return v.status === "resolved" && v.messages.some((m) => m.from === "agent") ? true : undefined;
      },
      { what: "the ticket resolved with the agent's reply", timeoutMs: 30_000 },
    );
    await page.close();
  }, 180_000);

  it("renders a Hebrew ticket right to left and shows the customer's language", async () => {
    const page = await signedIn(tokens.agent("ada"));
    const offer = page.getByTestId("offer").filter({ hasText: "חיוב כפול" });
    await offer.waitFor({ timeout: 60_000 });
    // From the keyboard: the first offer's shortcut.
    expect(await offer.getByRole("button", { name: "Accept" }).getAttribute("aria-keyshortcuts")).toBe("Alt+A");
    await page.keyboard.press("Alt+A");
    const body = page.getByTestId("message-body").filter({ hasText: "חויבתי פעמיים" });
    await body.waitFor({ timeout: 30_000 });
    expect(await body.getAttribute("dir")).toBe("rtl");
    expect(await page.getByRole("heading", { name: "חיוב כפול בחשבונית" }).getAttribute("dir")).toBe("rtl");
    await expect.poll(() => page.getByTestId("customer-language").textContent(), { timeout: 30_000 }).toContain("(he)");
    await shot(page, "agent-hebrew-rtl");
    // A narrow window still shows the ticket and its actions.
    await page.setViewportSize({ width: 420, height: 860 });
    expect(await page.getByRole("button", { name: "Resolve" }).isVisible()).toBe(true);
    await shot(page, "agent-narrow");
    await page.close();
  }, 180_000);

  it("lets a supervisor reassign a ticket, with a reason that is required", async () => {
    await waitFor(
      async () => {
        const r = (await (await fetch(`${routing.httpUrl}/v1/tickets/${hebrewId}/routing`, { headers: await bearer(tokens.admin()) })).json()) as { ownerId: string | null };
        return r.ownerId === "ada" ? true : undefined;
      },
      { what: "ada owns the Hebrew ticket" },
    );
    const page = await signedIn(tokens.supervisor("sam", supervisorGroups));
    await page.getByRole("tab", { name: "Tickets" }).click();
    const reassign = page.getByRole("button", { name: /^Reassign ST-/ });
    await expect.poll(() => reassign.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    const row = page.getByRole("row").filter({ hasText: "חיוב כפול" });
    await row.getByRole("button", { name: /^Reassign/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("New owner").click();
    await page.getByRole("option", { name: /^Bo/ }).click();
    // Without a reason nothing is sent.
    await dialog.getByRole("button", { name: "Reassign" }).click();
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByLabel("Reason").fill("Ada is off tomorrow; Bo follows up on refunds");
    await shot(page, "supervisor-reassign");
    await dialog.getByRole("button", { name: "Reassign" }).click();
    await dialog.waitFor({ state: "hidden", timeout: 30_000 });
    const routed = (await (await fetch(`${routing.httpUrl}/v1/tickets/${hebrewId}/routing`, { headers: await bearer(tokens.admin()) })).json()) as {
      ownerId: string;
      lastReassignment: { reason?: string } | null;
    };
    expect(routed.ownerId).toBe("bo");
    expect(JSON.stringify(routed.lastReassignment)).toContain("Ada is off tomorrow");
    await page.getByRole("tab", { name: "Agents" }).click();
    await page.getByRole("cell", { name: /Bo/ }).first().waitFor();
    await shot(page, "supervisor-agents");
    await page.getByRole("tab", { name: "Last 24 hours" }).click();
    await page.getByText("Tickets in per hour").waitFor();
    await expect.poll(async () => (await page.getByText("Time to owner").locator("..").textContent()) ?? "", { timeout: 30_000 }).toMatch(/p50 \d/);
    await shot(page, "supervisor-analytics");
    await page.close();
  }, 180_000);
});
