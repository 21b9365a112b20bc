// Small helpers for tests that share one broker and store.
import { randomBytes } from "node:crypto";

/** A name no other test file or run uses: for topic prefixes, group ids and database names. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`.replace(/[^a-zA-Z0-9_-]/g, "-");
}

/** Polls until check returns a value other than undefined/false, or fails with the last value seen. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? "condition"}${lastError ? `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
