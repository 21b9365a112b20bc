// The in-memory index of agents: who belongs to which group, and who is available, speaks a language and
// has a free slot on a channel, kept as sets so "who can take this ticket now" never scans every agent.
import { CHANNELS, freeCapacity, type AgentState, type Channel } from "./model.ts";

/** An agent as filed in the pool: its state plus set views of its groups and languages. */
export interface PooledAgent {
  readonly state: AgentState;
  readonly groups: ReadonlySet<string>;
  readonly languages: ReadonlySet<string>;
  /** The same levels as state.skills, as a Map: hot loops look skills up by name across thousands of agents. */
  readonly skills: ReadonlyMap<string, number>;
}

/** How many agents of a group fall at each step of the eligibility funnel, for explanations. */
export interface FunnelCounts {
  readonly members: number;
  readonly available: number;
  /** Available and speaking the language (= available when the language is dropped). */
  readonly speaking: number;
  /** Available, speaking, with a free slot on the channel. */
  readonly free: number;
}

const SEP = "\u0001";

function languageKey(group: string, language: string): string {
  return group + SEP + language;
}

function freeKey(group: string, language: string | null, channel: Channel): string {
  return language === null ? group + SEP + SEP + channel : group + SEP + language + SEP + channel;
}

function pairKey(groupA: string, groupB: string): string {
  return groupA < groupB ? groupA + SEP + groupB : groupB + SEP + groupA;
}

function increment(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next === 0) map.delete(key);
  else map.set(key, next);
}

function addTo(map: Map<string, Set<PooledAgent>>, key: string, agent: PooledAgent): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(agent);
}

function removeFrom(map: Map<string, Set<PooledAgent>>, key: string, agent: PooledAgent): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(agent);
  if (set.size === 0) map.delete(key);
}

const EMPTY: ReadonlySet<PooledAgent> = new Set();

export class AgentPool {
  readonly #agents = new Map<string, PooledAgent>();
  readonly #members = new Map<string, Set<PooledAgent>>();
  readonly #available = new Map<string, number>();
  readonly #speaking = new Map<string, number>();
  /** Agents in both of two groups (key: the two names, sorted): lets a ticket's pool span its overflow group. */
  readonly #shared = new Map<string, Set<PooledAgent>>();
  /** group+language+channel (and group+channel for "any language") -> available agents with a free slot. */
  readonly #free = new Map<string, Set<PooledAgent>>();

  get size(): number {
    return this.#agents.size;
  }

  get(agentId: string): AgentState | undefined {
    return this.#agents.get(agentId)?.state;
  }

  pooled(agentId: string): PooledAgent | undefined {
    return this.#agents.get(agentId);
  }

  has(agentId: string): boolean {
    return this.#agents.has(agentId);
  }

  inGroup(agentId: string, group: string): boolean {
    return this.#agents.get(agentId)?.groups.has(group) ?? false;
  }

  speaks(agentId: string, language: string): boolean {
    return this.#agents.get(agentId)?.languages.has(language) ?? false;
  }

  *all(): IterableIterator<AgentState> {
    for (const pooled of this.#agents.values()) yield pooled.state;
  }

  /** Inserts or replaces an agent and re-files it in every index it belongs to. */
  put(agent: AgentState): void {
    const previous = this.#agents.get(agent.id);
    if (previous !== undefined) this.#unfile(previous);
    const pooled: PooledAgent = {
      state: agent,
      groups: new Set(agent.groups),
      languages: new Set(agent.languages),
      skills: new Map(Object.entries(agent.skills)),
    };
    this.#agents.set(agent.id, pooled);
    this.#file(pooled);
  }

  delete(agentId: string): boolean {
    const previous = this.#agents.get(agentId);
    if (previous === undefined) return false;
    this.#unfile(previous);
    this.#agents.delete(agentId);
    return true;
  }

  members(group: string): ReadonlySet<PooledAgent> {
    return this.#members.get(group) ?? EMPTY;
  }

  /** Agents who belong to both groups. */
  inBoth(groupA: string, groupB: string): ReadonlySet<PooledAgent> {
    return this.#shared.get(pairKey(groupA, groupB)) ?? EMPTY;
  }

  /** Available agents of `group` who speak `language` (null: any language) and have a free slot on `channel`. */
  free(group: string, language: string | null, channel: Channel): ReadonlySet<PooledAgent> {
    return this.#free.get(freeKey(group, language, channel)) ?? EMPTY;
  }

  funnel(group: string, language: string | null, channel: Channel): FunnelCounts {
    const available = this.#available.get(group) ?? 0;
    return {
      members: this.#members.get(group)?.size ?? 0,
      available,
      speaking: language === null ? available : (this.#speaking.get(languageKey(group, language)) ?? 0),
      free: this.free(group, language, channel).size,
    };
  }

  #file(pooled: PooledAgent): void {
    this.#index(pooled, 1);
  }

  #unfile(pooled: PooledAgent): void {
    this.#index(pooled, -1);
  }

  #index(pooled: PooledAgent, direction: 1 | -1): void {
    const agent = pooled.state;
    const available = agent.presence === "available";
    const freeChannels = available ? CHANNELS.filter((channel) => freeCapacity(agent, channel) > 0) : [];
    const groups = [...pooled.groups];
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        const key = pairKey(groups[i] as string, groups[j] as string);
        if (direction === 1) addTo(this.#shared, key, pooled);
        else removeFrom(this.#shared, key, pooled);
      }
    }
    for (const group of pooled.groups) {
      if (direction === 1) addTo(this.#members, group, pooled);
      else removeFrom(this.#members, group, pooled);
      if (!available) continue;
      increment(this.#available, group, direction);
      for (const language of pooled.languages) increment(this.#speaking, languageKey(group, language), direction);
      for (const channel of freeChannels) {
        const keys = [freeKey(group, null, channel), ...[...pooled.languages].map((language) => freeKey(group, language, channel))];
        for (const key of keys) {
          if (direction === 1) addTo(this.#free, key, pooled);
          else removeFrom(this.#free, key, pooled);
        }
      }
    }
  }
}
