import { describe, expect, it } from "vitest";
import { DEV_API_KEY, DEV_INTEGRATION_ID, IntegrationRegistry, bearerToken, hashApiKey, parseIntegrations } from "./integrations.ts";

const limit = { perSecond: 10, burst: 20 };
const helpdeskKey = "hd-live-4f1c9a7e2b";
const file = JSON.stringify({
  integrations: [
    { id: "helpdesk", apiKeySha256: [hashApiKey(helpdeskKey)], rateLimit: { perSecond: 5, burst: 5 } },
    { id: "mailer", webhookSecrets: ["0123456789abcdef-secret"] },
  ],
});

describe("parseIntegrations", () => {
  it("reads integrations with hashed keys, secrets and limits (defaults where missing)", () => {
    const parsed = parseIntegrations(file, limit);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.integrations.map((i) => [i.id, i.rateLimit])).toEqual([
      ["helpdesk", { perSecond: 5, burst: 5 }],
      ["mailer", limit],
    ]);
  });

  it("reads an integration's outbound webhook, which must be signed", () => {
    const withOutbound = { id: "desk", apiKeySha256: [hashApiKey("desk-key-123456")], outboundUrl: "https://desk.example/steward", outboundSecret: "outbound-secret-0123" };
    const parsed = parseIntegrations(JSON.stringify({ integrations: [withOutbound] }), limit);
    expect(parsed.ok && parsed.integrations[0]?.outbound).toEqual({ url: "https://desk.example/steward", secret: "outbound-secret-0123" });
    const unsigned = parseIntegrations(JSON.stringify({ integrations: [{ ...withOutbound, outboundSecret: undefined }] }), limit);
    expect(unsigned.ok ? [] : unsigned.problems).toEqual(["integrations.0.outboundSecret: outboundUrl and outboundSecret go together"]);
    const notHttp = parseIntegrations(JSON.stringify({ integrations: [{ ...withOutbound, outboundUrl: "ftp://desk.example/" }] }), limit);
    expect(notHttp.ok).toBe(false);
  });

  it("names every problem without echoing secrets", () => {
    const bad = parseIntegrations(JSON.stringify({ integrations: [{ id: "Bad Id", apiKeySha256: ["plain-text-key"] }, { id: "empty" }] }), limit);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.join("\n")).toMatch(/integrations\.0\.id/);
    expect(bad.problems.join("\n")).toMatch(/integrations\.0\.apiKeySha256\.0: must be a SHA-256 digest/);
    expect(bad.problems.join("\n")).toMatch(/at least one apiKeySha256 or webhookSecrets/);
    expect(bad.problems.join("\n")).not.toContain("plain-text-key");
    expect(parseIntegrations("{nope", limit)).toEqual({ ok: false, problems: ["is not valid JSON"] });
    const twice = parseIntegrations(
      JSON.stringify({
        integrations: [
          { id: "a", apiKeySha256: [hashApiKey("k")] },
          { id: "a", apiKeySha256: [hashApiKey("k")] },
        ],
      }),
      limit,
    );
    expect(twice.ok ? [] : twice.problems).toHaveLength(2);
  });
});

describe("IntegrationRegistry", () => {
  it("in development mode accepts the documented key, and no credentials only when allowed", () => {
    const dev = new IntegrationRegistry({ devRateLimit: limit, allowAnonymousDev: true });
    expect(dev.devMode).toBe(true);
    expect(dev.authenticate({ apiKey: DEV_API_KEY })).toMatchObject({ ok: true, integration: { id: DEV_INTEGRATION_ID }, anonymous: false });
    expect(dev.authenticate({})).toMatchObject({ ok: true, integration: { id: DEV_INTEGRATION_ID }, anonymous: true });
    expect(dev.authenticate({ apiKey: "guess" })).toMatchObject({ ok: false, code: "INVALID_API_KEY" });
    const strict = new IntegrationRegistry({ devRateLimit: limit, allowAnonymousDev: false });
    expect(strict.authenticate({})).toMatchObject({ ok: false, code: "MISSING_CREDENTIALS" });
  });

  it("with integrations configured, the dev key and anonymous requests are refused", () => {
    const parsed = parseIntegrations(file, limit);
    if (!parsed.ok) throw new Error("fixture");
    const reg = new IntegrationRegistry({ integrations: parsed.integrations, devRateLimit: limit, allowAnonymousDev: true });
    expect(reg.devMode).toBe(false);
    expect(reg.anonymousAllowed).toBe(false);
    expect(reg.authenticate({ apiKey: helpdeskKey })).toMatchObject({ ok: true, integration: { id: "helpdesk" } });
    expect(reg.authenticate({ apiKey: DEV_API_KEY })).toMatchObject({ ok: false, code: "INVALID_API_KEY" });
    expect(reg.authenticate({})).toMatchObject({ ok: false, code: "MISSING_CREDENTIALS" });
    expect(reg.get("mailer")?.webhookSecrets).toHaveLength(1);
  });

  it("reads bearer tokens", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
  });
});
