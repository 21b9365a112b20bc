// Who comes to help: the role, the ticket's groups and skills, then the least loaded; never the owner.
import { describe, expect, it } from "vitest";
import { pickCollaborator, type TicketNeedingHelp } from "./collaborator-choice.ts";
import { anAgentState } from "../../test-support/domain-fixtures.ts";
import type { AgentState } from "./model.ts";

const ticket: TicketNeedingHelp = {
  ownerId: "owner",
  collaborators: [],
  group: "billing",
  overflowGroup: "tier2",
  channel: "email",
  requiredSkills: [{ name: "invoices", minLevel: 5, optional: false }],
};

const agent = (id: string, fields: Partial<AgentState> = {}) =>
  anAgentState({ id, groups: ["billing"], skills: { specialist: 5 }, capacity: { email: 4 }, presence: "available", ...fields });

describe("pickCollaborator", () => {
  it("never picks the owner, a collaborator already there, or an agent who is not available", () => {
    const agents = [agent("owner", { skills: { specialist: 10 } }), agent("helper-1"), agent("away", { presence: "away" })];
    expect(pickCollaborator(ticket, "specialist", agents)).toBe("helper-1");
    expect(pickCollaborator({ ...ticket, collaborators: ["helper-1"] }, "specialist", agents)).toBeNull();
  });

  it("needs the role as a skill and one of the ticket's groups (its overflow group counts)", () => {
    expect(pickCollaborator(ticket, "specialist", [agent("no-role", { skills: {} }), agent("elsewhere", { groups: ["sales"] })])).toBeNull();
    expect(pickCollaborator(ticket, "specialist", [agent("overflow", { groups: ["tier2"] })])).toBe("overflow");
    // No role named: any available agent of the groups.
    expect(pickCollaborator(ticket, "", [agent("anyone", { skills: {} })])).toBe("anyone");
  });

  it("prefers the ticket's skills, then the role's level, then the least loaded, then the id", () => {
    const meetsSkills = agent("z-meets", { skills: { specialist: 2, invoices: 6 } });
    const higherRole = agent("a-higher", { skills: { specialist: 9 } });
    expect(pickCollaborator(ticket, "specialist", [higherRole, meetsSkills])).toBe("z-meets");
    expect(pickCollaborator(ticket, "specialist", [agent("b-lower"), higherRole])).toBe("a-higher");
    const busy = agent("a-busy", { load: { email: 3 } });
    expect(pickCollaborator(ticket, "specialist", [busy, agent("b-idle")])).toBe("b-idle");
    expect(pickCollaborator(ticket, "specialist", [agent("b"), agent("a")])).toBe("a");
  });
});
