import { describe, expect, it } from "vitest";
import { agentNamedBy, agentSelf, allOf, decide, integration, role, supervisorOf, type AccessRule } from "./access-rules.ts";
import type { Principal, Role } from "./principal.ts";

const user = (id: string, roles: Role[], groups: string[] = []): Principal => ({ type: "user", id, roles: new Set(roles), groups });
type Req = { id: string; owner?: string | null; groups?: string[] };
const ownerOf = agentNamedBy<Req>("the owner", async (r) => (r.owner === undefined ? undefined : r.owner === null ? [] : [r.owner]));
const supervisors = supervisorOf<Req>("the group", async (r) => r.groups);

describe("access decisions", () => {
  const rule: AccessRule<Req> = {
    allow: [
      allOf(
        agentSelf<Req>(() => undefined),
        ownerOf,
      ),
      supervisors,
    ],
  };

  it("is 401 without a principal and 403 for the wrong one, naming who may", async () => {
    expect(await decide(rule, undefined, { id: "t", owner: "ana" })).toMatchObject({ ok: false, status: 401 });
    const refused = await decide(rule, user("ben", ["agent"]), { id: "t", owner: "ana", groups: ["g"] });
    expect(refused).toEqual({ ok: false, status: 403, code: "FORBIDDEN", message: "only the agent itself and the owner, or a supervisor of the group may do this" });
  });

  it("allows the owner, a supervisor of the group and an admin; not a supervisor of another group", async () => {
    expect((await decide(rule, user("ana", ["agent"]), { id: "t", owner: "ana", groups: ["g"] })).ok).toBe(true);
    expect((await decide(rule, user("sue", ["supervisor"], ["g"]), { id: "t", owner: "ana", groups: ["g"] })).ok).toBe(true);
    expect((await decide(rule, user("root", ["admin"]), { id: "t", owner: "ana", groups: ["g"] })).ok).toBe(true);
    expect((await decide(rule, user("sid", ["supervisor"], ["h"]), { id: "t", owner: "ana", groups: ["g"] })).ok).toBe(false);
  });

  it("lets an authenticated caller through to the handler's 404 when the resource does not exist", async () => {
    expect((await decide(rule, user("ben", ["agent"]), { id: "gone" })).ok).toBe(true);
  });

  it("keeps people and integrations apart", async () => {
    const submit: AccessRule<Req> = { allow: [integration<Req>()] };
    expect((await decide(submit, { type: "integration", id: "shop" }, { id: "t" })).ok).toBe(true);
    expect((await decide(submit, user("root", ["admin"]), { id: "t" })).ok).toBe(false);
    expect((await decide({ allow: [role<Req>("admin")] }, { type: "integration", id: "shop" }, { id: "t" })).ok).toBe(false);
  });
});
