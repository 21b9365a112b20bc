// Tokens from an OIDC issuer, the way Keycloak, Entra ID, Okta and Auth0 deployments work: the verifier
// finds the issuer's JWKS through its discovery document and checks tokens against it. The issuer here is
// a small HTTP server on 127.0.0.1 that publishes a discovery document and a key set, as a real one does.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigningKeySet, signToken } from "./dev-keys.ts";
import { createTokenVerifier, TokenRejectedError } from "./token-verifier.ts";
import { verifierSettingsOf, authSchema } from "./auth-config.ts";

const keys = createSigningKeySet();
let server: Server;
let issuer = "";
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/realms/support/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }));
    } else if (req.url === "/realms/support/protocol/openid-connect/certs") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(keys.publicJwks));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  issuer = `http://127.0.0.1:${address.port}/realms/support`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("an OIDC issuer found by discovery", () => {
  it("verifies its tokens with the keys it publishes, with the claims mapping of a Keycloak realm", async () => {
    const settings = verifierSettingsOf(
      authSchema.parse({
        STEWARD_OIDC_ISSUER: issuer,
        STEWARD_OIDC_AUDIENCE: "steward-console",
        STEWARD_AUTH_ROLES_CLAIM: "realm_access.roles",
        STEWARD_AUTH_ROLE_PREFIX: "steward-",
      }),
    );
    const verifier = createTokenVerifier(settings);
    // Keycloak puts realm roles under realm_access.roles; the token's own roles claim is ignored here.
    const { importJWK, SignJWT } = await import("jose");
    const key = await importJWK(keys.privateJwk, "ES256");
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ realm_access: { roles: ["steward-supervisor", "offline_access"] }, groups: ["/billing"] })
      .setProtectedHeader({ alg: "ES256", kid: keys.privateJwk.kid ?? "" })
      .setSubject("sue")
      .setIssuer(issuer)
      .setAudience("steward-console")
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(key);
    expect(await verifier.verify(token)).toEqual({ type: "user", id: "sue", roles: new Set(["supervisor"]), groups: ["billing"] });
    expect(requests).toEqual(expect.arrayContaining(["/realms/support/.well-known/openid-configuration", "/realms/support/protocol/openid-connect/certs"]));
    // Another audience at the same issuer is refused.
    await expect(verifier.verify(await signToken(keys.privateJwk, { subject: "sue", roles: ["supervisor"], issuer, audience: "another-app" }))).rejects.toBeInstanceOf(
      TokenRejectedError,
    );
  });
});
