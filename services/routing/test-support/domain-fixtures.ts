// Builders of agents and tickets for the routing domain's tests: sensible defaults, override what matters.
import type { AgentProfile, AgentState, AgentStatus, RelaxationPolicy, WaitingTicket } from "../src/domain/model.ts";

export const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

export const NO_RELAXATION: RelaxationPolicy = {
  dropOptionalSkillsAfterMs: null,
  addOverflowGroupAfterMs: null,
  allowLanguageRelaxation: false,
  dropLanguageAfterMs: null,
};

export function anAgent(overrides: Partial<AgentProfile & AgentStatus> & { id: string }): AgentProfile & AgentStatus {
  return {
    name: overrides.id,
    groups: ["support"],
    skills: {},
    languages: ["en"],
    capacity: { chat: 3, email: 5, phone: 1 },
    presence: "available",
    presenceChangedAt: T0 - 60_000,
    load: {},
    idleSince: T0 - 60_000,
    ...overrides,
  };
}

export function anAgentState(overrides: Partial<AgentState> & { id: string }): AgentState {
  return { ...anAgent(overrides), reserved: {}, ...overrides };
}

export function aTicket(overrides: Partial<WaitingTicket> & { id: string }): WaitingTicket {
  return {
    group: "support",
    channel: "chat",
    language: "en",
    priority: "P3",
    requiredSkills: [],
    enqueuedAt: T0,
    relaxation: NO_RELAXATION,
    ...overrides,
  };
}

/** Unwraps an ok result, failing the test with the domain error otherwise. */
export function unwrap<T>(result: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error }): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.name}: ${result.error.message}`);
  return result.value;
}

/** The error of a failed result, failing the test if it succeeded. */
export function errorOf<E>(result: { readonly ok: true } | { readonly ok: false; readonly error: E }): E {
  if (result.ok) throw new Error("expected a failure, got ok");
  return result.error;
}
