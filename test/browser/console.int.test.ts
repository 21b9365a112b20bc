// The console in a real browser (Debian's Chromium driven by playwright-core) against the real stack:
// intake, triage, routing, escalation and the console on the test broker and store. A supervisor sees a
// queue grow while nobody is available; an agent signs in, goes available, receives an offer, accepts,
// replies and resolves; a Hebrew ticket renders right to left; the supervisor reassigns it with a reason.
// Screenshots are kept in test/browser/artifacts (git-ignored); the README's come from here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, isolatedEnv, tokens, waitFor } from "@steward/testkit";
import { startConsoleStack, supervisorGroups, type ConsoleStack } from "./support.ts";

const t = isolatedEnv("browser");
let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack(t, [
    { id: "ada", name: "Ada", languages: ["en", "he"] },
    { id: "bo", name: "Bo", languages: ["en"] },
  ]);
}, 240_000);

afterAll(() => stack?.close());

describe("the console in a browser", () => {
  let englishId = "";
  let hebrewId = "";

  it("shows a supervisor the queue growing while nobody is available", async () => {
    const page = await stack.signedIn(tokens.supervisor("sam", supervisorGroups));
    await expect.poll(() => page.getByRole("tab", { name: "Queues" }).isVisible(), { timeout: 20_000 }).toBe(true);
    const waiting = async () => {
      const cells = await page.getByTestId("waiting").allTextContents();
      return cells.reduce((n, c) => n + Number(c), 0);
    };
    englishId = await stack.submit("br-1", "Refund for a double charge", "Hello, you charged my card twice for order 5521. Please refund the second payment.", {
      id: "c-en",
      name: "Sam Carter",
    });
    await expect.poll(waiting, { timeout: 60_000 }).toBe(1);
    hebrewId = await stack.submit("br-2", "חיוב כפול בחשבונית", "שלום, חויבתי פעמיים על אותה הזמנה. אפשר להחזיר לי את הכסף?", { id: "c-he", name: "נועה לוי" });
    await expect.poll(waiting, { timeout: 60_000 }).toBe(2);
    await stack.shot(page, "supervisor-queues");
    await page.close();
  }, 180_000);

  it("lets an agent sign in, go available, accept an offer, reply and resolve", async () => {
    const page = await stack.signedIn(tokens.agent("ada"));
    await expect.poll(() => page.getByTestId("signed-in-as").textContent(), { timeout: 20_000 }).toBe("ada");
    await page.getByRole("region", { name: "Presence" }).getByText("Available", { exact: true }).click();
    await expect.poll(() => page.getByRole("radio", { name: "Available" }).isChecked()).toBe(true);
    const offer = page.getByTestId("offer").filter({ hasText: "Refund for a double charge" });
    await offer.waitFor({ timeout: 60_000 });
    await expect.poll(() => offer.textContent()).toMatch(/expires in \d/);
    await stack.shot(page, "agent-offer");
    await offer.getByRole("button", { name: "Accept" }).click();
    const panel = page.getByRole("region", { name: /^Ticket / });
    await panel.getByText("you charged my card twice").waitFor({ timeout: 30_000 });
    await page.getByLabel("Reply", { exact: true }).fill("Sorry about that: the second charge is refunded, you will see it in 3 days.");
    await page.getByRole("button", { name: "Send" }).click();
    await panel.getByText("the second charge is refunded").waitFor({ timeout: 30_000 });
    await stack.shot(page, "agent-desk");
    await panel.getByRole("button", { name: "Resolve" }).click();
    await waitFor(
      async () => {
        const v = (await (await fetch(`${stack.intake.httpUrl}/v1/tickets/${englishId}`, { headers: await bearer(tokens.admin()) })).json()) as {
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
    const page = await stack.signedIn(tokens.agent("ada"));
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
    await stack.shot(page, "agent-hebrew-rtl");
    // A narrow window still shows the ticket and its actions.
    await page.setViewportSize({ width: 420, height: 860 });
    expect(await page.getByRole("button", { name: "Resolve" }).isVisible()).toBe(true);
    await stack.shot(page, "agent-narrow");
    await page.close();
  }, 180_000);

  it("lets a supervisor reassign a ticket, with a reason that is required", async () => {
    await waitFor(
      async () => {
        const r = (await (await fetch(`${stack.routing.httpUrl}/v1/tickets/${hebrewId}/routing`, { headers: await bearer(tokens.admin()) })).json()) as { ownerId: string | null };
        return r.ownerId === "ada" ? true : undefined;
      },
      { what: "ada owns the Hebrew ticket" },
    );
    const page = await stack.signedIn(tokens.supervisor("sam", supervisorGroups));
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
    await stack.shot(page, "supervisor-reassign");
    await dialog.getByRole("button", { name: "Reassign" }).click();
    await dialog.waitFor({ state: "hidden", timeout: 30_000 });
    const routed = (await (await fetch(`${stack.routing.httpUrl}/v1/tickets/${hebrewId}/routing`, { headers: await bearer(tokens.admin()) })).json()) as {
      ownerId: string;
      lastReassignment: { reason?: string } | null;
    };
    expect(routed.ownerId).toBe("bo");
    expect(JSON.stringify(routed.lastReassignment)).toContain("Ada is off tomorrow");
    await page.getByRole("tab", { name: "Agents" }).click();
    await page.getByRole("cell", { name: /Bo/ }).first().waitFor();
    await stack.shot(page, "supervisor-agents");
    await page.getByRole("tab", { name: "Last 24 hours" }).click();
    await page.getByText("Tickets in per hour").waitFor();
    await expect.poll(async () => (await page.getByText("Time to owner").locator("..").textContent()) ?? "", { timeout: 30_000 }).toMatch(/p50 \d/);
    await stack.shot(page, "supervisor-analytics");
    await page.close();
  }, 180_000);
});
