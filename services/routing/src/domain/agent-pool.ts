// The in-memory index of agents: who belongs to which group, and who is available, speaks a language and
// has a free slot on a channel, kept as sets so "who can take this ticket now" never scans every agent.
// A load change (the common case: an offer, an accept, a resolve) re-files the agent only in the channel
// sets whose free state changed; a change of groups or languages re-files it everywhere.
import { CHANNELS, freeCapacity, type AgentState, type Channel } from "./model.ts";

/**
 * An agent as filed in the pool: its state plus set views of its groups and languages. The pool keeps one
 * object per agent for as long as its groups and languages stay the same, and updates its state in place,
 * so the index sets need not be rebuilt on every load change.
 */
export interface PooledAgent {
  readonly state: AgentState;
  readonly groups: ReadonlySet<string>;
  readonly languages: ReadonlySet<string>;
  /** The same levels as state.skills, as a Map: hot loops look skills up by name across thousands of agents. */
  readonly skills: ReadonlyMap<string, number>;
}

/** The pool's own, mutable view of a PooledAgent. */
interface FiledAgent {
  state: AgentState;
  readonly groups: ReadonlySet<string>;
  readonly languages: ReadonlySet<string>;
  skills: ReadonlyMap<string, number>;
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

  /** Inserts or replaces an agent and re-files it where its availability or free channels changed. */
  put(agent: AgentState): void {
    const previous = this.#agents.get(agent.id);
    if (previous !== undefined && sameMembership(previous.state, agent)) {
      this.#refile(previous, agent);
      return;
    }
    if (previous !== undefined) this.#unfile(previous);
    const pooled: FiledAgent = {
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

  /** Same groups and languages: only availability and free channels can have changed. */
  #refile(pooled: FiledAgent, next: AgentState): void {
    const before = pooled.state;
    if (before.skills !== next.skills) pooled.skills = new Map(Object.entries(next.skills));
    const wasAvailable = before.presence === "available";
    const isAvailable = next.presence === "available";
    const freeBefore = wasAvailable ? CHANNELS.filter((channel) => freeCapacity(before, channel) > 0) : [];
    pooled.state = next;
    const freeNow = isAvailable ? CHANNELS.filter((channel) => freeCapacity(next, channel) > 0) : [];
    if (wasAvailable !== isAvailable) {
      const direction = isAvailable ? 1 : -1;
      for (const group of pooled.groups) {
        increment(this.#available, group, direction);
        for (const language of pooled.languages) increment(this.#speaking, languageKey(group, language), direction);
      }
    }
    for (const channel of freeBefore) if (!freeNow.includes(channel)) this.#fileFree(pooled, channel, -1);
    for (const channel of freeNow) if (!freeBefore.includes(channel)) this.#fileFree(pooled, channel, 1);
  }

  #fileFree(pooled: PooledAgent, channel: Channel, direction: 1 | -1): void {
    for (const group of pooled.groups) {
      if (direction === 1) addTo(this.#free, freeKey(group, null, channel), pooled);
      else removeFrom(this.#free, freeKey(group, null, channel), pooled);
      for (const language of pooled.languages) {
        if (direction === 1) addTo(this.#free, freeKey(group, language, channel), pooled);
        else removeFrom(this.#free, freeKey(group, language, channel), pooled);
      }
    }
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
    }
    for (const channel of freeChannels) this.#fileFree(pooled, channel, direction);
  }
}

function sameMembership(a: AgentState, b: AgentState): boolean {
  return sameList(a.groups, b.groups) && sameList(a.languages, b.languages);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
