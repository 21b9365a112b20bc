// The active SLA policy, shared by every escalation instance through the store: activating a new
// version (at start or on reload) bumps a sequence number; instances adopt the highest sequence, and
// tickets on a lower one are recomputed once, so no instance ever moves a ticket back to an old policy.
import { readFile } from "node:fs/promises";
import { isDuplicateKeyError } from "@steward/store";
import type { Logger } from "@steward/telemetry";
import { parseSlaPolicy, type SlaPolicy } from "./domain/index.ts";
import type { PolicyDoc, SlaStore } from "./sla-store.ts";

export class PolicyFileError extends Error {
  readonly code = "POLICY_FILE_UNREADABLE";
  constructor(path: string, reason: string) {
    super(`cannot read the SLA policy file ${path}: ${reason}`);
    this.name = "PolicyFileError";
  }
}

export interface ActivePolicy {
  readonly policy: SlaPolicy;
  /** The document as written (before defaults), shown by GET /v1/sla/policy. */
  readonly document: unknown;
  readonly seq: number;
  readonly activatedAt: Date;
  readonly activatedBy: string;
}

export interface ReloadResult {
  readonly changed: boolean;
  readonly version: string;
  readonly previousVersion: string;
  readonly seq: number;
}

/** Reads and validates a policy file; throws PolicyFileError or InvalidSlaPolicyError. */
export async function readPolicyFile(path: string): Promise<{ policy: SlaPolicy; document: unknown }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new PolicyFileError(path, err instanceof Error ? err.message : String(err));
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new PolicyFileError(path, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return { policy: parseSlaPolicy(document), document };
}

export class PolicyRegistry {
  private current: ActivePolicy | undefined;
  private readonly store: SlaStore;
  /** The policy file this instance reads at start and on reload. */
  readonly file: string;
  private readonly instanceId: string;
  private readonly log: Logger;

  constructor(deps: { store: SlaStore; file: string; instanceId: string; log: Logger }) {
    this.store = deps.store;
    this.file = deps.file;
    this.instanceId = deps.instanceId;
    this.log = deps.log;
  }

  active(): ActivePolicy {
    if (this.current === undefined) throw new Error("the policy registry is not initialised");
    return this.current;
  }

  /** At start: the file is the operator's intent; a version other than the active one is activated. */
  async init(): Promise<void> {
    const { policy, document } = await readPolicyFile(this.file);
    await this.activate(policy, document);
  }

  /** Re-reads the file and activates it when its version differs from the active one; `by` names who asked. */
  async reload(by?: string): Promise<ReloadResult> {
    const previousVersion = this.active().policy.version;
    const { policy, document } = await readPolicyFile(this.file);
    const changed = await this.activate(policy, document, by);
    return { changed, version: this.active().policy.version, previousVersion, seq: this.active().seq };
  }

  /** Adopts a newer activation made by another instance. True when the active policy changed. */
  async refresh(): Promise<boolean> {
    const doc = await this.store.policies.findOne({ _id: "active" });
    if (doc === null || (this.current !== undefined && doc.seq <= this.current.seq)) return false;
    this.adopt(doc);
    this.log.info({ version: doc.version, seq: doc.seq }, "adopted SLA policy activated elsewhere");
    return true;
  }

  private adopt(doc: PolicyDoc): void {
    const document: unknown = JSON.parse(doc.document);
    this.current = { policy: parseSlaPolicy(document), document, seq: doc.seq, activatedAt: doc.activatedAt, activatedBy: doc.activatedBy };
  }

  private async activate(policy: SlaPolicy, document: unknown, by?: string): Promise<boolean> {
    const activatedBy = by === undefined ? this.instanceId : `${by} via ${this.instanceId}`;
    const text = JSON.stringify(document);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const existing = await this.store.policies.findOne({ _id: "active" });
      const activatedAt = new Date();
      if (existing === null) {
        const doc: PolicyDoc = { _id: "active", version: policy.version, document: text, seq: 1, activatedAt, activatedBy };
        const inserted = await this.store.policies.insertOne(doc).then(
          () => true,
          (err: unknown) => {
            if (isDuplicateKeyError(err)) return false;
            throw err;
          },
        );
        if (!inserted) continue;
        this.adopt(doc);
        this.log.info({ version: policy.version, seq: 1 }, "SLA policy activated");
        return true;
      }
      if (existing.version === policy.version) {
        // The version names the rules in action keys: the same version keeps the stored document.
        if (existing.document !== text) this.log.warn({ version: policy.version }, "policy file differs from the active policy of the same version; bump its version to apply it");
        this.adopt(existing);
        return false;
      }
      const next: PolicyDoc = { _id: "active", version: policy.version, document: text, seq: existing.seq + 1, activatedAt, activatedBy };
      const result = await this.store.policies.updateOne(
        { _id: "active", seq: existing.seq },
        { $set: { version: next.version, document: next.document, seq: next.seq, activatedAt, activatedBy: next.activatedBy } },
      );
      if (result.matchedCount !== 1) continue;
      this.adopt(next);
      this.log.info({ version: policy.version, previousVersion: existing.version, seq: next.seq }, "SLA policy activated");
      return true;
    }
    throw new Error("could not activate the SLA policy: the active policy kept changing");
  }
}
