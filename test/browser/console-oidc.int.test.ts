// Signing in to the console with an OIDC provider, in Debian's Chromium: the authorization code flow with
// PKCE (S256) against a small provider on 127.0.0.1 that publishes discovery, keys, an authorize endpoint
// (which signs the person in at once) and a token endpoint that checks the code verifier, as Keycloak,
// Entra ID or Okta would. The console then verifies the provider's token like any service does.
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser } from "playwright-core";
import { build } from "vite";
import { createSigningKeySet, signToken } from "@steward/auth/dev-keys";
import { isolatedEnv } from "@steward/testkit";
import { loadConsoleConfig } from "../../services/console/src/config.ts";
import { startConsole, type RunningConsole } from "../../services/console/src/service.ts";

const CHROMIUM = process.env["STEWARD_CHROMIUM"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const WEB_CONFIG = fileURLToPath(new URL("../../services/console/web/vite.config.ts", import.meta.url));
const CLIENT_ID = "steward-console";

const providerKeys = createSigningKeySet();
let provider: Server;
let issuer = "";
/** Codes issued, with the PKCE challenge and redirect URI they were asked for. */
const codes = new Map<string, { challenge: string; redirectUri: string }>();
const tokenRequests: Array<Record<string, string>> = [];

let webDir = "";
let console_: RunningConsole;
let browser: Browser;

function startProvider(): Promise<void> {
  provider = createServer((req, res) => {
    const url = new URL(req.url ?? "/", issuer || "http://127.0.0.1");
    const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" }).end(JSON.stringify(body));
    if (url.pathname === "/realms/support/.well-known/openid-configuration") {
      json(200, { issuer, jwks_uri: `${issuer}/certs`, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token` });
    } else if (url.pathname === "/realms/support/certs") {
      json(200, providerKeys.publicJwks);
    } else if (url.pathname === "/realms/support/auth") {
      // A real provider shows its login page here; this one signs in the supervisor sue at once.
      const q = url.searchParams;
      if (q.get("client_id") !== CLIENT_ID || q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
        json(400, { error: "invalid_request" });
        return;
      }
      const code = randomUUID();
      codes.set(code, { challenge: q.get("code_challenge") ?? "", redirectUri: q.get("redirect_uri") ?? "" });
      res.writeHead(302, { location: `${q.get("redirect_uri")}?code=${code}&state=${encodeURIComponent(q.get("state") ?? "")}` }).end();
    } else if (url.pathname === "/realms/support/token" && req.method === "POST") {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const form = Object.fromEntries(new URLSearchParams(raw));
        tokenRequests.push(form);
        const issued = codes.get(form["code"] ?? "");
        codes.delete(form["code"] ?? "");
        const verified =
          issued !== undefined &&
          createHash("sha256")
            .update(form["code_verifier"] ?? "")
            .digest("base64url") === issued.challenge &&
          form["redirect_uri"] === issued.redirectUri;
        if (!verified) {
          json(400, { error: "invalid_grant" });
          return;
        }
        void signToken(providerKeys.privateJwk, { subject: "sue", roles: ["supervisor"], groups: ["billing"], issuer, audience: CLIENT_ID, ttlS: 300 }).then((accessToken) =>
          json(200, { access_token: accessToken, token_type: "Bearer", expires_in: 300 }),
        );
      });
    } else {
      json(404, { error: "not_found" });
    }
  });
  return new Promise((resolve) => {
    provider.listen(0, "127.0.0.1", () => {
      const address = provider.address();
      if (address !== null && typeof address !== "string") issuer = `http://127.0.0.1:${address.port}/realms/support`;
      resolve();
    });
  });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await startProvider();
  webDir = await mkdtemp(join(tmpdir(), "steward-console-web-"));
  await build({ configFile: WEB_CONFIG, logLevel: "error", build: { outDir: webDir, emptyOutDir: true } });
  const t = isolatedEnv("browser-oidc", { STEWARD_OIDC_ISSUER: issuer, STEWARD_OIDC_AUDIENCE: CLIENT_ID, CONSOLE_OIDC_CLIENT_ID: CLIENT_ID });
  console_ = await startConsole(loadConsoleConfig({ ...t.env, CONSOLE_HTTP_PORT: "0", CONSOLE_WEB_DIR: webDir }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await console_?.close();
  await new Promise<void>((resolve) => (provider ? provider.close(() => resolve()) : resolve()));
  if (webDir) await rm(webDir, { recursive: true, force: true });
});

describe("signing in with an OIDC provider", () => {
  it("goes to the provider and back with a code, exchanges it with the PKCE verifier, and works as the person it names", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(console_.httpUrl);
    await page.getByRole("button", { name: /^Sign in with 127\.0\.0\.1/ }).click();
    await expect.poll(() => page.getByTestId("signed-in-as").textContent(), { timeout: 30_000 }).toBe("sue");
    // The code and state are gone from the address; the console answered with the provider's token.
    expect(new URL(page.url()).search).toBe("");
    await page.getByRole("heading", { name: "Supervisor dashboard" }).waitFor();
    await page.getByRole("tab", { name: "Queues" }).click();
    await expect.poll(() => page.getByRole("table", { name: "Queues per group" }).textContent(), { timeout: 30_000 }).toContain("billing");
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]).toMatchObject({ grant_type: "authorization_code", client_id: CLIENT_ID, redirect_uri: `${console_.httpUrl}/` });
    await page.screenshot({ path: join(ARTIFACTS, "supervisor-oidc.png") });
    await page.close();
  }, 120_000);

  it("refuses a code exchanged without the matching verifier", async () => {
    const res = await fetch(`${issuer}/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "authorization_code", code: "made-up", code_verifier: "x", redirect_uri: "http://x/", client_id: CLIENT_ID }),
    });
    expect(res.status).toBe(400);
  });
});
