// SLA clocks in the console, in Debian's Chromium against the real stack with an SLA policy of seconds:
// the owner is told of the warning and the breach as they happen, and a supervisor finds the ticket among
// those at risk or breached and pauses and resumes its clocks from there.
// Screenshots are kept in test/browser/artifacts (git-ignored).
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, isolatedEnv, tokens } from "@steward/testkit";
import { startConsoleStack, supervisorGroups, type ConsoleStack } from "./support.ts";

const SECONDS_POLICY = fileURLToPath(new URL("../../services/escalation/policy/sla-policy.test-seconds.json", import.meta.url));
const t = isolatedEnv("browser-sla", { ESCALATION_POLICY_FILE: SECONDS_POLICY, ESCALATION_TIMER_POLL_MS: "250" });
let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack(t, [{ id: "ada", name: "Ada", languages: ["en"] }]);
}, 240_000);

afterAll(() => stack?.close());

describe("SLA clocks in the console", () => {
  it("tells the owner of the warning and the breach, and lets a supervisor pause and resume the clocks", async () => {
    const desk = await stack.signedIn(tokens.agent("ada"));
    await desk.getByRole("region", { name: "Presence" }).getByText("Available", { exact: true }).click();
    await expect.poll(() => desk.getByRole("radio", { name: "Available" }).isChecked(), { timeout: 20_000 }).toBe(true);
    const ticketId = await stack.submit("sla-1", "Where is my parcel", "My parcel has not arrived and the tracking has not moved for a week.", { id: "c-sla", name: "Kim Lee" });
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
    await stack.shot(desk, "agent-sla-notifications");

    const board = await stack.signedIn(tokens.supervisor("sam", supervisorGroups));
    await board.getByRole("tab", { name: /At risk/ }).click();
    const row = board.getByRole("row").filter({ hasText: "Where is my parcel" });
    await row.waitFor({ timeout: 60_000 });
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toContain("breached");
    await row.getByRole("button", { name: /^Pause SLA of ST-/ }).click();
    await row.getByRole("button", { name: /^Resume SLA of ST-/ }).waitFor({ timeout: 30_000 });
    const sla = async () =>
      ((await (await fetch(`${stack.escalation.httpUrl}/v1/tickets/${ticketId}/sla`, { headers: await bearer(tokens.admin()) })).json()) as { view: { paused: boolean } | null })
        .view?.paused;
    expect(await sla()).toBe(true);
    await stack.shot(board, "supervisor-at-risk");
    await row.getByRole("button", { name: /^Resume SLA of ST-/ }).click();
    await row.getByRole("button", { name: /^Pause SLA of ST-/ }).waitFor({ timeout: 30_000 });
    expect(await sla()).toBe(false);
    await desk.close();
    await board.close();
  }, 240_000);
});
