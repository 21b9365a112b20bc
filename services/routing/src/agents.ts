// Agent profiles and presence: stored (by _id, guarded by the version read) and announced on the agents
// topic, where the matcher learns of them. Free capacity is always capacity minus the agent's holds.
import { Topics } from "@steward/proto";
import { newEnvelope, type EventBus } from "@steward/messaging";
import { validateAgent, type ChannelCounts, type Presence } from "./domain/index.ts";
import { freeFor, holdsOf } from "./domain-mapping.ts";
import { agentEventId, PRODUCER } from "./routing-events.ts";
import { GatewayError } from "./routing-errors.ts";
import { classifyStoreError, isDuplicateKeyError } from "@steward/store";
import { skillsOf, storedSkills, type AgentDoc, type RoutingStore } from "./routing-store.ts";

export interface AgentProfileInput {
  name: string;
  groups: string[];
  skills: Record<string, number>;
  languages: string[];
  capacity: ChannelCounts;
}

const MAX_ATTEMPTS = 8;

export class AgentDirectory {
  readonly #store: RoutingStore;
  readonly #bus: EventBus;

  constructor(store: RoutingStore, bus: EventBus) {
    this.#store = store;
    this.#bus = bus;
  }

  /** Creates or replaces a profile. Work the agent holds stays counted against the new capacity. */
  async upsert(agentId: string, profile: AgentProfileInput, now = Date.now()): Promise<AgentDoc> {
    const checked = validateAgent({ id: agentId, ...profile, presence: "offline", presenceChangedAt: now, idleSince: now, load: {} });
    if (!checked.ok) throw checked.error;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#store.getAgent(agentId);
      if (current === null) {
        const doc: AgentDoc = {
          _id: agentId,
          version: 1,
          ...profile,
          skills: storedSkills(profile.skills),
          free: freeFor(profile.capacity, []),
          holds: {},
          presence: "offline",
          presenceChangedAt: now,
          idleSince: now,
          createdAt: now,
          updatedAt: now,
        };
        try {
          await this.#store.agents.insertOne(doc);
        } catch (err) {
          if (isDuplicateKeyError(err)) continue; // created at the same moment elsewhere: update it instead
          throw classifyStoreError(err) ?? err;
        }
        await this.#publishProfile(doc);
        return doc;
      }
      const free = freeFor(profile.capacity, holdsOf(current));
      const skills = storedSkills(profile.skills);
      const res = await this.#store.agents.updateOne({ _id: agentId, version: current.version }, { $set: { ...profile, skills, free, updatedAt: now }, $inc: { version: 1 } });
      if (res.modifiedCount === 1) {
        const doc: AgentDoc = { ...current, ...profile, skills, free, version: current.version + 1, updatedAt: now };
        await this.#publishProfile(doc);
        return doc;
      }
    }
    throw new GatewayError("STORE_CONTENTION", `agent ${agentId} kept changing while this request ran; try again`);
  }

  /**
   * Returns null for an unknown agent. Leaving "available" withdraws the agent's open offers (the matcher
   * does). `by` names who asked (the agent, a supervisor, or the system) and why; it is stored and published.
   * `decide`, when given, looks at the presence as stored and returns the change to make (null: none), so a
   * system change never overwrites a person's that landed in between.
   */
  async setPresence(
    agentId: string,
    presence: Presence,
    by: { actor: string; reason?: string },
    now = Date.now(),
    decide?: (current: AgentDoc) => { presence: Presence; actor: string; reason: string } | null,
  ): Promise<AgentDoc | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#store.getAgent(agentId);
      if (current === null) return null;
      const wanted = decide === undefined ? { presence, actor: by.actor, reason: by.reason ?? "" } : decide(current);
      if (wanted === null) return current;
      const changed = current.presence !== wanted.presence;
      const idleSince = wanted.presence === "available" && changed ? Math.max(current.idleSince, now) : current.idleSince;
      const presenceChangedAt = changed ? now : current.presenceChangedAt;
      const res = await this.#store.agents.updateOne(
        { _id: agentId, version: current.version },
        {
          $set: { presence: wanted.presence, presenceChangedAt, presenceChangedBy: wanted.actor, presenceReason: wanted.reason, idleSince, updatedAt: now },
          $inc: { version: 1 },
        },
      );
      if (res.modifiedCount !== 1) continue;
      const doc: AgentDoc = {
        ...current,
        presence: wanted.presence,
        presenceChangedBy: wanted.actor,
        presenceReason: wanted.reason,
        idleSince,
        version: current.version + 1,
        updatedAt: now,
        presenceChangedAt,
      };
      await this.#bus.publish({
        topic: Topics.agents,
        key: agentId,
        envelope: newEnvelope(
          "agentPresenceChanged",
          "",
          { agentId, status: wanted.presence, changedAt: new Date(doc.presenceChangedAt), changedBy: wanted.actor, reason: wanted.reason },
          PRODUCER,
          { eventId: agentEventId(agentId, doc.version, "presence") },
        ),
      });
      return doc;
    }
    throw new GatewayError("STORE_CONTENTION", `agent ${agentId} kept changing while this request ran; try again`);
  }

  get(agentId: string): Promise<AgentDoc | null> {
    return this.#store.getAgent(agentId);
  }

  async #publishProfile(doc: AgentDoc): Promise<void> {
    const capacity: Record<string, number> = {};
    for (const [channel, n] of Object.entries(doc.capacity)) capacity[channel] = n ?? 0;
    await this.#bus.publish({
      topic: Topics.agents,
      key: doc._id,
      envelope: newEnvelope(
        "agentProfileUpdated",
        "",
        { agentId: doc._id, name: doc.name, groups: doc.groups, skills: skillsOf(doc), languages: doc.languages, capacity },
        PRODUCER,
        { eventId: agentEventId(doc._id, doc.version, "profile") },
      ),
    });
  }
}
