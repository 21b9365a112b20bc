// Loads the shipped triage policy and intent model from disk, and reloads the policy when its file
// changes. The only part of triage that touches the file system; parsing and validation are the pure
// functions in ../domain.

import { readFileSync, watch, type FSWatcher } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseIntentModel, type IntentModel } from "../domain/intent-model.ts";
import { parseTriagePolicyText, type InvalidTriagePolicyError, type TriagePolicy } from "../domain/triage-policy.ts";

export const SHIPPED_POLICY_PATH = fileURLToPath(new URL("../../policy/triage-policy.json", import.meta.url));
export const SHIPPED_MODEL_PATH = fileURLToPath(new URL("../../model/intent-model.json", import.meta.url));

/** Reads and validates a policy file. Throws InvalidTriagePolicyError (code INVALID_TRIAGE_POLICY). */
export function readTriagePolicyFile(path: string = SHIPPED_POLICY_PATH): TriagePolicy {
  const result = parseTriagePolicyText(readFileSync(path, "utf8"));
  if (!result.ok) throw result.error;
  return result.policy;
}

/** Reads and validates a model file. Throws InvalidIntentModelError (code INVALID_INTENT_MODEL). */
export function readIntentModelFile(path: string = SHIPPED_MODEL_PATH): IntentModel {
  return parseIntentModel(JSON.parse(readFileSync(path, "utf8")));
}

export interface PolicyReloader {
  /** The policy in force: the last valid one read. */
  current(): TriagePolicy;
  close(): void;
}

export interface PolicyReloaderOptions {
  readonly path?: string;
  /** Called with each newly loaded valid policy (a version change or any edit). */
  readonly onReload?: (policy: TriagePolicy) => void;
  /** Called when an edited file is invalid; the previous policy stays in force. */
  readonly onInvalid?: (error: InvalidTriagePolicyError | Error) => void;
  /** Editors save in bursts; wait this long after the last change before reading. */
  readonly debounceMs?: number;
}

/**
 * Watches the policy file and swaps in each valid edit. Throws at start if the file is invalid, since a
 * service must not start without a policy; later invalid edits are reported and ignored.
 */
export function watchTriagePolicy(options: PolicyReloaderOptions = {}): PolicyReloader {
  const path = options.path ?? SHIPPED_POLICY_PATH;
  let policy = readTriagePolicyFile(path);
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    timer = undefined;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      options.onInvalid?.(error as Error);
      return;
    }
    const result = parseTriagePolicyText(text);
    if (!result.ok) {
      options.onInvalid?.(result.error);
      return;
    }
    policy = result.policy;
    options.onReload?.(policy);
  };
  const watcher: FSWatcher = watch(path, () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(reload, options.debounceMs ?? 100);
  });
  return {
    current: () => policy,
    close: () => {
      if (timer !== undefined) clearTimeout(timer);
      watcher.close();
    },
  };
}
