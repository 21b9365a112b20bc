// ./steward token — a development token signed with this checkout's key set (.steward/dev-auth), the one
// `./steward start` gives the services. The token alone goes to stdout, so it can be captured:
//   ./steward token --agent ada
//   ./steward token --supervisor sam --groups billing,orders
//   ./steward token --admin root [--ttl 3600]
//   ./steward token --keys            (prints the public JWKS file the services trust)
import { devAuthDir } from "./local-run.ts";
import { loadOrCreateSigningKeySet, signToken, type TokenClaims } from "@steward/auth/dev-keys";

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const usage = "usage: ./steward token --agent <id> | --supervisor <id> --groups <g1,g2> | --admin <id> [--ttl <seconds>] | --keys";
const fail = (message: string): never => {
  process.stderr.write(`steward token: ${message}\n${usage}\n`);
  process.exit(2);
};

const keys = loadOrCreateSigningKeySet(devAuthDir);
if (args.includes("--keys")) {
  process.stdout.write(`${keys.jwksFile}\n`);
  process.exit(0);
}
const ttl = value("--ttl");
const ttlS = ttl === undefined ? undefined : Number(ttl);
if (ttlS !== undefined && (!Number.isInteger(ttlS) || ttlS <= 0)) fail("--ttl must be a positive number of seconds");
const id = /^[A-Za-z0-9._:@-]{1,128}$/;
let claims: TokenClaims | undefined;
for (const r of ["agent", "supervisor", "admin"] as const) {
  const subject = value(`--${r}`);
  if (subject === undefined) continue;
  if (claims !== undefined) fail("name one of --agent, --supervisor, --admin");
  if (!id.test(subject)) fail(`--${r} must be 1-128 characters of A-Z a-z 0-9 . _ : @ -`);
  const groups = (value("--groups") ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
  if (r === "supervisor" && groups.length === 0) fail("a supervisor needs --groups (the groups it oversees)");
  claims = { subject, roles: [r], groups, ...(ttlS !== undefined ? { ttlS } : {}) };
}
if (claims === undefined) fail("name one of --agent, --supervisor, --admin");
process.stdout.write(`${await signToken(keys.privateJwk, claims as TokenClaims)}\n`);
