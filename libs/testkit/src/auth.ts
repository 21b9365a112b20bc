// Identities for tests: one signing key set per test file (made in memory), the environment that makes
// services trust it, and tokens for agents, supervisors and admins. Services verify them for real.
import { createSigningKeySet, signToken, type TokenClaims } from "@steward/auth/dev-keys";

const keys = createSigningKeySet();

/** What a service under test needs to trust this file's tokens. */
export const testAuthEnv: Record<string, string> = { STEWARD_AUTH_JWKS: JSON.stringify(keys.publicJwks) };

/** A token signed with this file's key set; `claims` may override anything (for refusal tests). */
export function testToken(claims: TokenClaims): Promise<string> {
  return signToken(keys.privateJwk, claims);
}

export const tokens = {
  agent: (id: string): Promise<string> => testToken({ subject: id, roles: ["agent"] }),
  supervisor: (id: string, groups: string[]): Promise<string> => testToken({ subject: id, roles: ["supervisor"], groups }),
  admin: (id = "test-admin"): Promise<string> => testToken({ subject: id, roles: ["admin"] }),
};

/** `{ authorization: "Bearer …" }` for a token. */
export async function bearer(token: Promise<string> | string): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await token}` };
}
