import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidTriagePolicyError, type TriagePolicy } from "../domain/triage-policy.ts";
import { readIntentModelFile, readTriagePolicyFile, SHIPPED_POLICY_PATH, watchTriagePolicy, type PolicyReloader } from "./triage-files.ts";

const shipped = JSON.parse(readFileSync(SHIPPED_POLICY_PATH, "utf8")) as Record<string, unknown>;
const directories: string[] = [];
const reloaders: PolicyReloader[] = [];

function policyFile(content: string): string {
  const directory = mkdtempSync(join(tmpdir(), "triage-policy-"));
  directories.push(directory);
  const path = join(directory, "triage-policy.json");
  writeFileSync(path, content);
  return path;
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(() => {
  for (const reloader of reloaders.splice(0)) reloader.close();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe("triage files", () => {
  it("reads the shipped policy and model", () => {
    expect(readTriagePolicyFile().version).toBe(shipped.version);
    expect(readIntentModelFile().labels).toContain("other");
  });

  it("refuses to start from an invalid policy file", () => {
    const path = policyFile(JSON.stringify({ ...shipped, version: "" }));
    expect(() => readTriagePolicyFile(path)).toThrow(InvalidTriagePolicyError);
    expect(() => watchTriagePolicy({ path })).toThrow(/version/);
  });

  it("swaps in a valid edit and keeps the last good policy when an edit is invalid", async () => {
    const path = policyFile(JSON.stringify(shipped));
    const reloaded: TriagePolicy[] = [];
    const rejected: Error[] = [];
    const reloader = watchTriagePolicy({
      path,
      debounceMs: 10,
      onReload: (policy) => reloaded.push(policy),
      onInvalid: (error) => rejected.push(error),
    });
    reloaders.push(reloader);

    writeFileSync(path, JSON.stringify({ ...shipped, version: "2099.1.0" }));
    await eventually(() => reloader.current().version === "2099.1.0");
    expect(reloaded.at(-1)?.version).toBe("2099.1.0");

    writeFileSync(path, "{ broken");
    await eventually(() => rejected.length > 0);
    expect(reloader.current().version).toBe("2099.1.0");
  });
});
