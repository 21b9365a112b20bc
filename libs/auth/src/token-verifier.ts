// Verifies people's bearer tokens (JWTs) with jose and maps their claims to a Principal. Two kinds of
// key source, usable side by side and chosen by the token's issuer:
//   - an OIDC issuer (Keycloak, Entra ID, Okta, Auth0): keys from its JWKS, found by discovery;
//   - the deployment's own signing key set (self-hosting without an identity provider): public keys
//     given as a JWKS; the private half stays with whoever mints tokens (`./steward token`).
// Only asymmetric algorithms are accepted: a shared HMAC secret would let every service mint tokens,
// and `alg: none` is refused by jose itself.
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { isRole, type Role, type UserPrincipal } from "./principal.ts";

export const ACCEPTED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

export interface ClaimsMapping {
  /** Claim holding the principal's id (default `sub`; e.g. `preferred_username`). */
  subject: string;
  /** Claim holding the roles, a dotted path into the payload (default `roles`; Keycloak: `realm_access.roles`). */
  roles: string;
  /** Claim holding the groups (default `groups`); a leading `/` (Keycloak group paths) is dropped. */
  groups: string;
  /** Prefix the identity provider puts on Steward's roles (e.g. `steward-` for `steward-agent`). */
  rolePrefix: string;
}

export const DEFAULT_CLAIMS: ClaimsMapping = { subject: "sub", roles: "roles", groups: "groups", rolePrefix: "" };

export interface IssuerSettings {
  issuer: string;
  audience: string;
  /** The issuer's keys: a JWKS given inline, or a URL (fetched and cached by jose), or discovered. */
  keys: { jwks: JSONWebKeySet } | { jwksUri: string } | { discover: true };
}

export interface VerifierSettings {
  issuers: IssuerSettings[];
  claims: ClaimsMapping;
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceS: number;
}

/** Why a token was refused; always answered as 401 UNAUTHENTICATED with this message. */
export class TokenRejectedError extends Error {
  readonly code = "UNAUTHENTICATED";
  constructor(message: string) {
    super(message);
    this.name = "TokenRejectedError";
  }
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function stringList(value: unknown): string[] {
  if (typeof value === "string") return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/** The principal a verified payload names, under the claims mapping. */
export function principalFromClaims(payload: JWTPayload, claims: ClaimsMapping): UserPrincipal {
  const id = claimAt(payload, claims.subject);
  if (typeof id !== "string" || id.length === 0 || id.length > 128) throw new TokenRejectedError(`the token has no usable '${claims.subject}' claim`);
  const roles = new Set<Role>();
  for (const raw of stringList(claimAt(payload, claims.roles))) {
    if (!raw.startsWith(claims.rolePrefix)) continue;
    const role = raw.slice(claims.rolePrefix.length);
    if (isRole(role)) roles.add(role);
  }
  if (roles.size === 0) throw new TokenRejectedError(`the token grants none of Steward's roles (agent, supervisor, admin) in '${claims.roles}'`);
  const groups = stringList(claimAt(payload, claims.groups)).map((g) => g.replace(/^\//, ""));
  return { type: "user", id, roles, groups };
}

export interface TokenVerifier {
  verify(token: string): Promise<UserPrincipal>;
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`OIDC discovery at ${url} answered ${res.status}`);
  const doc = (await res.json()) as { jwks_uri?: unknown; issuer?: unknown };
  if (typeof doc.jwks_uri !== "string") throw new Error(`OIDC discovery at ${url} has no jwks_uri`);
  return doc.jwks_uri;
}

export function createTokenVerifier(settings: VerifierSettings): TokenVerifier {
  const keySets = new Map<string, Promise<JWTVerifyGetKey>>();
  const keysOf = (s: IssuerSettings): Promise<JWTVerifyGetKey> => {
    let keys = keySets.get(s.issuer);
    if (keys === undefined) {
      const k = s.keys;
      keys =
        "jwks" in k
          ? Promise.resolve(createLocalJWKSet(k.jwks))
          : "jwksUri" in k
            ? Promise.resolve(createRemoteJWKSet(new URL(k.jwksUri)))
            : discoverJwksUri(s.issuer).then((uri) => createRemoteJWKSet(new URL(uri)));
      // A failed discovery is retried on the next token rather than cached forever.
      keys.catch(() => keySets.delete(s.issuer));
      keySets.set(s.issuer, keys);
    }
    return keys;
  };

  return {
    async verify(token: string): Promise<UserPrincipal> {
      let unverifiedIssuer: unknown;
      try {
        unverifiedIssuer = decodeJwt(token).iss;
      } catch {
        throw new TokenRejectedError("the bearer token is not a JWT");
      }
      const issuer = settings.issuers.find((s) => s.issuer === unverifiedIssuer);
      if (issuer === undefined) throw new TokenRejectedError("the token's issuer is not trusted here");
      let keys: JWTVerifyGetKey;
      try {
        keys = await keysOf(issuer);
      } catch (err) {
        throw new TokenRejectedError(`the issuer's keys could not be fetched (${err instanceof Error ? err.message : "error"})`);
      }
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: issuer.issuer,
          audience: issuer.audience,
          algorithms: ACCEPTED_ALGORITHMS,
          clockTolerance: settings.clockToleranceS,
          requiredClaims: ["exp"],
        });
        return principalFromClaims(payload, settings.claims);
      } catch (err) {
        if (err instanceof TokenRejectedError) throw err;
        throw new TokenRejectedError(describeJoseError(err));
      }
    },
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's '${err.claim}' claim is not accepted here`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (err instanceof errors.JWKSNoMatchingKey) return "the token was signed with a key this deployment does not trust";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return "the token is malformed";
  return "the token could not be verified";
}
