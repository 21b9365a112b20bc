// The identity settings every service with a human-facing API shares, as a zod fragment for its
// config.ts, and the verifier settings they describe. A service with neither an OIDC issuer nor a
// deployment key set refuses to start: there is no anonymous mode for people.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "@steward/config";
import type { JSONWebKeySet } from "jose";
import { DEFAULT_CLAIMS, type IssuerSettings, type VerifierSettings } from "./token-verifier.ts";

export const authEnv = {
  /** An OIDC issuer (e.g. https://keycloak.example/realms/support); its keys are found by discovery. */
  STEWARD_OIDC_ISSUER: z.string().url().optional(),
  /** The audience Steward's tokens carry at that issuer (the client id, or an API identifier). */
  STEWARD_OIDC_AUDIENCE: z.string().min(1).optional(),
  /** The issuer's JWKS URL, when discovery is not wanted. */
  STEWARD_OIDC_JWKS_URI: z.string().url().optional(),
  /** The deployment's own key set (public JWKS), as a file or inline JSON; the file wins. */
  STEWARD_AUTH_JWKS_FILE: z.string().min(1).optional(),
  STEWARD_AUTH_JWKS: z.string().min(1).optional(),
  /** Issuer and audience of tokens signed with the deployment's key set. */
  STEWARD_AUTH_ISSUER: z.string().min(1).default("steward"),
  STEWARD_AUTH_AUDIENCE: z.string().min(1).default("steward"),
  /** Claims mapping (dotted paths into the token): subject, roles and groups, and the roles' prefix. */
  STEWARD_AUTH_SUBJECT_CLAIM: z.string().min(1).default(DEFAULT_CLAIMS.subject),
  STEWARD_AUTH_ROLES_CLAIM: z.string().min(1).default(DEFAULT_CLAIMS.roles),
  STEWARD_AUTH_GROUPS_CLAIM: z.string().min(1).default(DEFAULT_CLAIMS.groups),
  STEWARD_AUTH_ROLE_PREFIX: z.string().default(DEFAULT_CLAIMS.rolePrefix),
  STEWARD_AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(600).default(30),
} as const;

export const authSchema = z.object(authEnv);
export type AuthEnv = z.infer<typeof authSchema>;

function parseJwks(text: string, variable: string): JSONWebKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError([`${variable}: not valid JSON`]);
  }
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError([`${variable}: expected a JWKS, {"keys": [...]} with at least one key`]);
  // A private key here would let this service mint tokens; only the public half belongs in a service.
  if (keys.some((k) => typeof k === "object" && k !== null && ("d" in k || (k as { kty?: unknown }).kty === "oct"))) {
    throw new ConfigError([`${variable}: holds a private or symmetric key; give services the public keys only`]);
  }
  return value as JSONWebKeySet;
}

/** The verifier settings of a service's parsed environment; a ConfigError says what to configure. */
export function verifierSettingsOf(env: AuthEnv): VerifierSettings {
  const issuers: IssuerSettings[] = [];
  if (env.STEWARD_OIDC_ISSUER) {
    if (!env.STEWARD_OIDC_AUDIENCE) throw new ConfigError(["STEWARD_OIDC_AUDIENCE: required with STEWARD_OIDC_ISSUER (the audience Steward's tokens carry)"]);
    issuers.push({
      issuer: env.STEWARD_OIDC_ISSUER,
      audience: env.STEWARD_OIDC_AUDIENCE,
      keys: env.STEWARD_OIDC_JWKS_URI ? { jwksUri: env.STEWARD_OIDC_JWKS_URI } : { discover: true },
    });
  }
  let local: { text: string; variable: string } | undefined;
  if (env.STEWARD_AUTH_JWKS_FILE) {
    try {
      local = { text: readFileSync(env.STEWARD_AUTH_JWKS_FILE, "utf8"), variable: "STEWARD_AUTH_JWKS_FILE" };
    } catch (err) {
      throw new ConfigError([`STEWARD_AUTH_JWKS_FILE: cannot read ${env.STEWARD_AUTH_JWKS_FILE} (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
    }
  } else if (env.STEWARD_AUTH_JWKS) {
    local = { text: env.STEWARD_AUTH_JWKS, variable: "STEWARD_AUTH_JWKS" };
  }
  if (local) {
    if (issuers.some((i) => i.issuer === env.STEWARD_AUTH_ISSUER)) throw new ConfigError(["STEWARD_AUTH_ISSUER: must differ from STEWARD_OIDC_ISSUER"]);
    issuers.push({ issuer: env.STEWARD_AUTH_ISSUER, audience: env.STEWARD_AUTH_AUDIENCE, keys: { jwks: parseJwks(local.text, local.variable) } });
  }
  if (issuers.length === 0) {
    throw new ConfigError([
      "no identity configured: set STEWARD_OIDC_ISSUER and STEWARD_OIDC_AUDIENCE (an OIDC provider), or STEWARD_AUTH_JWKS_FILE (the deployment's public signing keys; `./steward token --keys` shows the development set)",
    ]);
  }
  return {
    issuers,
    claims: {
      subject: env.STEWARD_AUTH_SUBJECT_CLAIM,
      roles: env.STEWARD_AUTH_ROLES_CLAIM,
      groups: env.STEWARD_AUTH_GROUPS_CLAIM,
      rolePrefix: env.STEWARD_AUTH_ROLE_PREFIX,
    },
    clockToleranceS: env.STEWARD_AUTH_CLOCK_TOLERANCE_S,
  };
}
