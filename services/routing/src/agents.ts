// Agent profiles and presence: stored for routing decisions and published as events.
import { Topics } from "@steward/proto";
import { newEnvelope, type EventBus } from "@steward/messaging";
import type { AgentDoc, Presence, RoutingStore } from "./routing-store.ts";

export interface AgentProfile {
  name: string;
  groups: string[];
  skills: Record<string, number>;
  languages: string[];
  capacity: Record<string, number>;
}

export class AgentDirectory {
  private readonly store: RoutingStore;
  private readonly bus: EventBus;
  constructor(store: RoutingStore, bus: EventBus) {
    this.store = store;
    this.bus = bus;
  }

  /** Creates or replaces a profile; free capacity moves by the change in capacity, so owned work stays counted. */
  async upsert(agentId: string, profile: AgentProfile, now = new Date()): Promise<AgentDoc> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await this.store.agents.findOne({ _id: agentId });
      if (!current) {
        const doc: AgentDoc = {
          _id: agentId,
          ...profile,
          free: { ...profile.capacity },
          capVersion: 0,
          presence: "offline",
          presenceChangedAt: now,
          idleSince: now,
          updatedAt: now,
        };
        try {
          await this.store.agents.insertOne(doc);
          await this.publishProfile(agentId, profile);
          return doc;
        } catch {
          continue; // created concurrently: retry as an update
        }
      }
      const free: Record<string, number> = {};
      for (const ch of new Set([...Object.keys(profile.capacity), ...Object.keys(current.capacity)])) {
        const used = (current.capacity[ch] ?? 0) - (current.free[ch] ?? 0);
        free[ch] = (profile.capacity[ch] ?? 0) - used;
      }
      // Optimistic: only applies if nobody changed the agent's capacity use in between.
      const res = await this.store.agents.updateOne(
        { _id: agentId, capVersion: current.capVersion },
        { $set: { ...profile, free, updatedAt: now }, $inc: { capVersion: 1 } },
      );
      if (res.modifiedCount === 1) {
        await this.publishProfile(agentId, profile);
        return { ...current, ...profile, free, capVersion: current.capVersion + 1, updatedAt: now };
      }
    }
    throw new Error("agent profile kept changing; try again");
  }

  async setPresence(agentId: string, status: Presence, now = new Date()): Promise<AgentDoc | null> {
    const agent = await this.store.agents.findOneAndUpdate(
      { _id: agentId },
      { $set: { presence: status, presenceChangedAt: now, updatedAt: now } },
      { returnDocument: "after" },
    );
    if (!agent) return null;
    await this.bus.publish({
      topic: Topics.agents,
      key: agentId,
      envelope: newEnvelope("agentPresenceChanged", "", { agentId, status, changedAt: now }, "routing"),
    });
    return agent;
  }

  private async publishProfile(agentId: string, p: AgentProfile): Promise<void> {
    await this.bus.publish({
      topic: Topics.agents,
      key: agentId,
      envelope: newEnvelope("agentProfileUpdated", "", { agentId, name: p.name, groups: p.groups, skills: p.skills, languages: p.languages, capacity: p.capacity }, "routing"),
    });
  }
}
