// A deployment's own signing key set, for self-hosting without an identity provider and for local
// development: an ES256 key pair whose private half mints tokens (`./steward token`) and whose public
// half (a JWKS) is all the services get. Tests make a key set in memory the same way.
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importJWK, SignJWT, type JSONWebKeySet, type JWK } from "jose";
import type { Role } from "./principal.ts";

export interface SigningKeySet {
  /** The private key (JWK with kid and alg); never handed to a service. */
  privateJwk: JWK;
  /** What services verify with. */
  publicJwks: JSONWebKeySet;
}

export function createSigningKeySet(): SigningKeySet {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = randomUUID();
  const privateJwk = { ...(privateKey.export({ format: "jwk" }) as JWK), kid, alg: "ES256", use: "sig" };
  const publicJwk = { ...(publicKey.export({ format: "jwk" }) as JWK), kid, alg: "ES256", use: "sig" };
  return { privateJwk, publicJwks: { keys: [publicJwk] } };
}

/** The key set kept in `dir` (signing-key.json private, 0600; jwks.json public), made on first use. */
export function loadOrCreateSigningKeySet(dir: string): SigningKeySet & { jwksFile: string } {
  const privateFile = join(dir, "signing-key.json");
  const jwksFile = join(dir, "jwks.json");
  if (existsSync(privateFile) && existsSync(jwksFile)) {
    return { privateJwk: JSON.parse(readFileSync(privateFile, "utf8")) as JWK, publicJwks: JSON.parse(readFileSync(jwksFile, "utf8")) as JSONWebKeySet, jwksFile };
  }
  mkdirSync(dir, { recursive: true });
  const set = createSigningKeySet();
  writeFileSync(privateFile, `${JSON.stringify(set.privateJwk)}\n`, { mode: 0o600 });
  writeFileSync(jwksFile, `${JSON.stringify(set.publicJwks, null, 2)}\n`);
  return { ...set, jwksFile };
}

export interface TokenClaims {
  subject: string;
  roles: Role[];
  groups?: string[];
  issuer?: string;
  audience?: string;
  /** Lifetime in seconds (default 12 hours: a working day). */
  ttlS?: number;
  name?: string;
}

/** A signed token for the claims, verifiable with the key set's public JWKS. */
export async function signToken(privateJwk: JWK, claims: TokenClaims): Promise<string> {
  const key = await importJWK(privateJwk, privateJwk.alg ?? "ES256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: claims.roles, groups: claims.groups ?? [], ...(claims.name ? { name: claims.name } : {}) })
    .setProtectedHeader({ alg: privateJwk.alg ?? "ES256", ...(privateJwk.kid ? { kid: privateJwk.kid } : {}), typ: "JWT" })
    .setSubject(claims.subject)
    .setIssuer(claims.issuer ?? "steward")
    .setAudience(claims.audience ?? "steward")
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.ttlS ?? 12 * 3600))
    .setJti(randomUUID())
    .sign(key);
}
