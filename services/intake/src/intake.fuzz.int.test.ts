// Fuzzes intake's HTTP API over the real broker and store: at least 10,000 random and malformed
// requests (random JSON shapes, wrong types, strings near the limits, invalid UTF-8, random content
// types, truncated bodies, odd headers, raw e-mail garbage). No answer may be a 5xx, and the service
// must still be alive afterwards. Seeded: INTAKE_FUZZ_SEED reproduces a run, INTAKE_FUZZ_COUNT sizes it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv } from "@steward/testkit";
import { loadIntakeConfig } from "./config.ts";
import { startIntake, type RunningIntake } from "./service.ts";
import { DEV_API_KEY, DEV_WEBHOOK_SECRET } from "./domain/integrations.ts";
import { signWebhook } from "./domain/webhook-signature.ts";

const JSON_LIMIT = 256 * 1024;
const COUNT = Number(process.env["INTAKE_FUZZ_COUNT"] ?? 10_000);
const SEED = Number(process.env["INTAKE_FUZZ_SEED"] ?? 20_250_301);
const CONCURRENCY = 16;

const t = isolatedEnv("intake-fuzz", { INTAKE_DEV_RATE_LIMIT_PER_SECOND: "1000000", INTAKE_DEV_RATE_LIMIT_BURST: "1000000", LOG_LEVEL: "error" });
let intake: RunningIntake;

beforeAll(async () => {
  intake = await startIntake(loadIntakeConfig(t.env));
});

afterAll(async () => {
  await intake?.close();
});

/** mulberry32: small, fast, seeded. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof rng>;

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz ",
  "ÄÖÜäöüßéèêçñ€",
  "Привет мир",
  "مرحبا שלום",
  "你好世界こんにちは안녕",
  "😀🎉👍🏽",
  '\u0000\u0001\u001f\u007f\t\n\r"\\/',
  "\ud800\udfff\udc00\ud83d", // lone and paired surrogates
  "{}[]:,\"'<>&$.%",
];

function randomString(r: Rng, max = 40): string {
  const len = r.chance(0.1) ? 0 : r.int(max);
  const alphabet = r.pick(ALPHABETS);
  let s = "";
  for (let i = 0; i < len; i += 1) s += alphabet[r.int(alphabet.length)] ?? "";
  return s;
}

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick([0, -1, 1.5, 1e308, -1e-308, Number.MAX_SAFE_INTEGER, 2 ** 64]);
    case 3:
    case 4:
    case 5:
      return randomString(r);
    case 6:
      return Array.from({ length: r.int(5) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const keys = [
        "channel",
        "externalId",
        "customer",
        "body",
        "subject",
        "metadata",
        "channelRefs",
        "threadId",
        "ticketId",
        "from",
        "id",
        "__proto__",
        "constructor",
        "a.b",
        "$x",
        "",
      ];
      for (let i = r.int(6); i > 0; i -= 1) o[r.chance(0.7) ? r.pick(keys) : randomString(r, 8)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

function validTicket(r: Rng, n: number): Record<string, unknown> {
  const channel = r.pick(["email", "chat", "phone", "social", "web", "api"]);
  return {
    channel,
    externalId: `fz-${SEED}-${n}`,
    customer: {
      id: `fz-c-${r.int(200)}`,
      ...(r.chance(0.3) ? { email: "fuzz@example.com", name: randomString(r, 20) } : {}),
      ...(r.chance(0.2) ? { tier: "vip", language: "de" } : {}),
    },
    ...(r.chance(0.6) ? { subject: r.pick(["Refund", "Re: Refund", "Login", "AW: Rechnung", "回复：退款", randomString(r, 30)]) } : {}),
    body: `${r.pick(["Please help", "Bitte helfen", "Ayuda", "帮帮我"])} ${randomString(r, 200)} ok`,
    ...(channel === "phone" && r.chance(0.5)
      ? { channelRefs: { kind: "callback", callbackNumber: "+4915112345678", preferredTime: r.pick(["asap", "2025-03-01T15:00:00Z", "later"]) } }
      : {}),
    ...(channel === "email" && r.chance(0.5) ? { channelRefs: { messageId: `<fz-${n}@x>`, inReplyTo: `<fz-${r.int(n + 1)}@x>` } } : {}),
    ...(r.chance(0.2) ? { metadata: { k: randomString(r, 10) } } : {}),
  };
}

/** Sets one field of an otherwise valid ticket to something wrong. */
function mutate(r: Rng, ticket: Record<string, unknown>): Record<string, unknown> {
  const field = r.pick(["channel", "externalId", "customer", "body", "subject", "metadata", "channelRefs", "threadId", "ticketId", "extra"]);
  const bad = r.pick<() => unknown>([
    () => randomValue(r),
    () => "x".repeat(r.pick([257, 1001, 200_001, 250_000])),
    () => "\ud800",
    () => "a\u0000b",
    () => ({ "a.b": "v" }),
    () => ({ $where: "1" }),
    () => ({ id: randomValue(r) }),
    () => "fax",
    () => "   ",
    () => [],
  ]);
  return { ...ticket, [field]: bad() };
}

interface FuzzRequest {
  kind: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

function randomHeaders(r: Rng, body: Buffer | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  const roll = r.int(10);
  if (roll === 0) h["authorization"] = r.pick(["Bearer", "Bearer ", `Bearer ${DEV_API_KEY}`, "Basic Zm9vOmJhcg==", `Bearer ${randomString(r, 30).replace(/[^\x21-\x7e]/g, "x")}`]);
  if (roll === 1) h["x-api-key"] = r.pick([DEV_API_KEY, "nope", "x".repeat(500)]);
  if (roll === 2) {
    const ts = r.pick([Math.floor(Date.now() / 1000), 0, 99_999_999_999]);
    h["x-steward-integration"] = r.pick(["dev", "nobody", ""]);
    h["x-steward-timestamp"] = r.pick([String(ts), "soon", "-1", ""]);
    h["x-steward-signature"] = r.chance(0.5) ? signWebhook(DEV_WEBHOOK_SECRET, ts, body ?? Buffer.alloc(0)) : r.pick(["v1=", "v1=zz", `v1=${"a".repeat(64)}`, "garbage", ""]);
    if (r.chance(0.5)) h["x-steward-delivery"] = r.pick(["d", "", "x".repeat(300), `d-${r.int(5)}`]);
  }
  return h;
}

const CONTENT_TYPES = [
  "text/plain",
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "multipart/form-data; boundary=zzzz",
  "message/rfc822",
  "application/json; charset=latin1",
  "application/jsonx",
  "APPLICATION/JSON",
  "",
  "*/*",
  "application/octet-stream",
  "image/png",
];

function randomMime(r: Rng): Buffer {
  const headers = [
    r.chance(0.8) ? `From: ${r.pick(["a@example.com", '"Q" <q@example.org>', "nobody", "", "=?UTF-8?B?w7w=?= <u@x.y>"])}` : "",
    r.chance(0.7) ? `Subject: ${randomString(r, 30).replace(/[\r\n]/g, " ")}` : "",
    r.chance(0.5) ? `Message-ID: <${randomString(r, 20).replace(/[\s<>]/g, "")}@fz>` : "",
    r.chance(0.3) ? `In-Reply-To: <fz-${r.int(50)}@x>` : "",
    r.chance(0.3)
      ? `Content-Type: ${r.pick(["text/plain; charset=utf-8", "text/html", "multipart/mixed; boundary=b", "multipart/alternative", "text/plain; charset=x-unknown"])}`
      : "",
    r.chance(0.2) ? "Content-Transfer-Encoding: " + r.pick(["base64", "quoted-printable", "8bit", "weird"]) : "",
  ].filter(Boolean);
  const body = r.chance(0.2)
    ? Buffer.from(Array.from({ length: r.int(2000) }, () => r.int(256)))
    : Buffer.from(`${randomString(r, 300)}\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>${randomString(r, 50)}</p>\r\n--b--`);
  return Buffer.concat([Buffer.from(`${headers.join("\r\n")}\r\n\r\n`), body]);
}

function withInvalidUtf8(r: Rng, json: Buffer): Buffer {
  const bad = r.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]]);
  // Inside a string value, where a lenient decoder would silently turn it into U+FFFD.
  const at = Math.max(1, json.indexOf(Buffer.from('"body":"')) + 8);
  return Buffer.concat([json.subarray(0, at), Buffer.from(bad), json.subarray(at)]);
}

function nearLimit(r: Rng, n: number): Buffer {
  const ticket = validTicket(r, n);
  const target = JSON_LIMIT + r.pick([-200, -1, 0, 1, 100, 5000]);
  const skeleton = Buffer.byteLength(JSON.stringify({ ...ticket, body: "" }));
  const filler = r.pick(["a", "é", "€", "😀"]);
  const unit = Buffer.byteLength(filler);
  const body = filler.repeat(Math.max(1, Math.floor((target - skeleton) / unit)));
  return Buffer.from(JSON.stringify({ ...ticket, body }));
}

function fuzzRequest(r: Rng, n: number): FuzzRequest {
  const json = (kind: string, value: unknown, path = "/v1/tickets"): FuzzRequest => {
    const body = Buffer.from(JSON.stringify(value) ?? "null");
    return { kind, method: "POST", path, headers: { "content-type": "application/json", ...randomHeaders(r, body) }, body };
  };
  const roll = r.int(100);
  if (roll < 12) return json("valid", validTicket(r, n));
  if (roll < 30) return json("mutated", mutate(r, validTicket(r, n)));
  if (roll < 42) return json("random-json", randomValue(r));
  if (roll < 48) {
    const body = withInvalidUtf8(r, Buffer.from(JSON.stringify(validTicket(r, n))));
    return { kind: "invalid-utf8", method: "POST", path: "/v1/tickets", headers: { "content-type": "application/json" }, body };
  }
  if (roll < 51) return { kind: "near-limit", method: "POST", path: "/v1/tickets", headers: { "content-type": "application/json" }, body: nearLimit(r, n) };
  if (roll < 58) {
    const full = Buffer.from(JSON.stringify(validTicket(r, n)));
    return { kind: "truncated", method: "POST", path: "/v1/tickets", headers: { "content-type": "application/json" }, body: full.subarray(0, r.int(full.length)) };
  }
  if (roll < 66) {
    const body = r.chance(0.5) ? Buffer.from(JSON.stringify(validTicket(r, n))) : Buffer.from(randomString(r, 100));
    const ct = r.pick(CONTENT_TYPES);
    return { kind: "content-type", method: "POST", path: r.pick(["/v1/tickets", "/v1/inbound/email", "/v1/tickets/x/messages"]), headers: ct ? { "content-type": ct } : {}, body };
  }
  if (roll < 74) {
    const body = randomMime(r);
    const form = r.chance(0.2);
    if (form) {
      const boundary = "fzfzfzBOUNDARY";
      const wrapped = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${r.pick(["email", "mime", "body-mime", "other"])}"\r\n\r\n`),
        body,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return {
        kind: "email-form",
        method: "POST",
        path: "/v1/inbound/email",
        headers: { "content-type": `multipart/form-data; boundary=${boundary}`, ...randomHeaders(r, wrapped) },
        body: r.chance(0.2) ? wrapped.subarray(0, r.int(wrapped.length)) : wrapped,
      };
    }
    return { kind: "email", method: "POST", path: "/v1/inbound/email", headers: { "content-type": "message/rfc822", ...randomHeaders(r, body) }, body };
  }
  if (roll < 84) {
    const id = r.pick([`fz-missing-${n}`, "%00", "..%2F..", encodeURIComponent(randomString(r, 20).toWellFormed()) || "x", "x".repeat(300), "%E0%A4%A", "a%ZZ"]);
    const value = r.chance(0.5)
      ? { externalId: `fzm-${n}`, from: r.pick(["customer", "agent", 1]), body: randomValue(r), ...(r.chance(0.3) ? { channel: randomValue(r) } : {}) }
      : randomValue(r);
    return r.chance(0.3) ? { kind: "get", method: "GET", path: `/v1/tickets/${id}`, headers: {} } : json("messages", value, `/v1/tickets/${id}/messages`);
  }
  if (roll < 90) {
    return {
      kind: "route",
      method: r.pick(["GET", "PUT", "DELETE", "POST"] as const),
      path: r.pick([
        "/",
        "/v1",
        "/v1/tickets",
        "/v1/inbound/email",
        "/docs/json",
        "/health/ready",
        `/${randomString(r, 10).replace(/[^a-z]/g, "")}`,
        "/v1/tickets?x=%",
        "//v1//tickets",
      ]),
      headers: {},
    };
  }
  // Messages onto tickets that may exist: earlier valid tickets are threaded by thread id.
  return json("follow-up", { ...validTicket(r, n), threadId: `fz-${r.int(n + 1)}`, ticketId: r.chance(0.3) ? `fz-missing-${n}` : undefined });
}

describe("fuzzing the HTTP API", () => {
  it(`answers ${COUNT} random and malformed requests without a single 5xx`, async () => {
    const r = rng(SEED);
    const requests = Array.from({ length: COUNT }, (_, i) => fuzzRequest(r, i));
    const byStatus = new Map<number, number>();
    const byKind = new Map<string, Map<number, number>>();
    const serverErrors: Array<{ n: number; kind: string; status: number; answer: string }> = [];
    let next = 0;
    const started = Date.now();
    const worker = async () => {
      while (next < requests.length) {
        const n = next;
        next += 1;
        const req = requests[n] as FuzzRequest;
        let status: number;
        let answer = "";
        try {
          const res = await fetch(`${intake.httpUrl}${req.path}`, { method: req.method, headers: req.headers, ...(req.body && req.method !== "GET" ? { body: req.body } : {}) });
          status = res.status;
          answer = status >= 500 ? (await res.text()).slice(0, 300) : "";
          if (status < 500) await res.arrayBuffer();
        } catch (err) {
          // No answer at all counts as a failure too (a crashed or hung connection).
          status = 599;
          answer = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        const kindMap = byKind.get(req.kind) ?? new Map<number, number>();
        kindMap.set(status, (kindMap.get(status) ?? 0) + 1);
        byKind.set(req.kind, kindMap);
        if (status >= 500) serverErrors.push({ n, kind: req.kind, status, answer });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (Date.now() - started) / 1000;

    const summary = [...byKind]
      .map(
        ([kind, m]) =>
          `${kind}: ${[...m]
            .sort((a, b) => a[0] - b[0])
            .map(([s, c]) => `${s}x${c}`)
            .join(" ")}`,
      )
      .join("\n  ");
    process.stderr.write(
      `[fuzz] seed ${SEED}: ${COUNT} requests in ${seconds.toFixed(1)} s (${(COUNT / seconds).toFixed(0)}/s, concurrency ${CONCURRENCY})\n` +
        `[fuzz] statuses: ${[...byStatus]
          .sort((a, b) => a[0] - b[0])
          .map(([s, c]) => `${s}x${c}`)
          .join(" ")}\n  ${summary}\n`,
    );
    expect(serverErrors.slice(0, 10)).toEqual([]);
    // The fuzz reached the pipeline (not only the parsers): many requests were accepted.
    expect(byStatus.get(202) ?? 0).toBeGreaterThan(COUNT / 20);
    expect(byStatus.get(400) ?? 0).toBeGreaterThan(COUNT / 10);
    expect(byStatus.get(413) ?? 0).toBeGreaterThan(0);
    expect(byStatus.get(415) ?? 0).toBeGreaterThan(0);
    const live = await fetch(`${intake.httpUrl}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${intake.httpUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const after = await fetch(`${intake.httpUrl}/v1/tickets`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel: "chat", externalId: `after-fuzz-${SEED}`, customer: { id: "c-after" }, body: "still working?" }),
    });
    expect(after.status).toBe(202);
  }, 300_000);
});
