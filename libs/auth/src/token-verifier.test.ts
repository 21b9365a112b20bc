import { describe, expect, it } from "vitest";
import { createSigningKeySet, signToken } from "./dev-keys.ts";
import { createTokenVerifier, principalFromClaims, DEFAULT_CLAIMS, TokenRejectedError } from "./token-verifier.ts";
import { verifierSettingsOf, authEnv } from "./auth-config.ts";
import { z } from "zod";

const keys = createSigningKeySet();
const verifier = createTokenVerifier({ issuers: [{ issuer: "steward", audience: "steward", keys: { jwks: keys.publicJwks } }], claims: DEFAULT_CLAIMS, clockToleranceS: 30 });

describe("token verification", () => {
  it("maps a valid token's claims to a principal", async () => {
    const p = await verifier.verify(await signToken(keys.privateJwk, { subject: "sue", roles: ["supervisor"], groups: ["billing", "/orders"] }));
    expect(p).toEqual({ type: "user", id: "sue", roles: new Set(["supervisor"]), groups: ["billing", "orders"] });
  });

  it("refuses another key set, an expired token, another audience or issuer, and garbage", async () => {
    const other = createSigningKeySet();
    const cases = [
      signToken(other.privateJwk, { subject: "a", roles: ["agent"] }),
      signToken(keys.privateJwk, { subject: "a", roles: ["agent"], ttlS: -60 }),
      signToken(keys.privateJwk, { subject: "a", roles: ["agent"], audience: "x" }),
      signToken(keys.privateJwk, { subject: "a", roles: ["agent"], issuer: "x" }),
      Promise.resolve("not-a-token"),
    ];
    for (const token of cases) await expect(verifier.verify(await token)).rejects.toBeInstanceOf(TokenRejectedError);
  });

  it("reads roles and groups through a claims mapping (Keycloak-style nesting, a role prefix)", () => {
    const p = principalFromClaims(
      { preferred_username: "ana", realm_access: { roles: ["steward-agent", "offline_access", "agent"] }, grp: "a b" },
      { subject: "preferred_username", roles: "realm_access.roles", groups: "grp", rolePrefix: "steward-" },
    );
    expect(p).toEqual({ type: "user", id: "ana", roles: new Set(["agent"]), groups: ["a", "b"] });
    expect(() => principalFromClaims({ sub: "x", roles: ["root"] }, DEFAULT_CLAIMS)).toThrow(/none of Steward's roles/);
  });
});

describe("identity configuration", () => {
  const env = (vars: Record<string, string>) => z.object(authEnv).parse(vars);
  it("refuses to run with no issuer and no key set, naming what to set", () => {
    expect(() => verifierSettingsOf(env({}))).toThrow(/STEWARD_OIDC_ISSUER.*STEWARD_AUTH_JWKS_FILE/);
  });
  it("refuses a private or symmetric key in a service's key set", () => {
    expect(() => verifierSettingsOf(env({ STEWARD_AUTH_JWKS: JSON.stringify({ keys: [keys.privateJwk] }) }))).toThrow(/private or symmetric/);
    expect(() => verifierSettingsOf(env({ STEWARD_AUTH_JWKS: JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }) }))).toThrow(/private or symmetric/);
  });
  it("needs an audience with an OIDC issuer", () => {
    expect(() => verifierSettingsOf(env({ STEWARD_OIDC_ISSUER: "https://id.example/realms/support" }))).toThrow(/STEWARD_OIDC_AUDIENCE/);
    expect(verifierSettingsOf(env({ STEWARD_OIDC_ISSUER: "https://id.example/realms/support", STEWARD_OIDC_AUDIENCE: "steward" })).issuers[0]).toMatchObject({
      keys: { discover: true },
    });
  });
});
