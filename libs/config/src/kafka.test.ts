// Kafka settings from the environment: topic sizing, TLS and SASL, and the errors an operator sees.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, commonEnv, kafkaSettings, loadConfig } from "./index.ts";

const schema = z.object(commonEnv);
const settings = (env: Record<string, string>) => kafkaSettings(loadConfig(schema, env));
const problems = (env: Record<string, string>): string[] => {
  try {
    settings(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

const dir = await mkdtemp(join(tmpdir(), "steward-config-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("kafkaSettings", () => {
  it("defaults to plaintext, creating topics sized by the cluster", () => {
    expect(settings({})).toEqual({ createTopics: true });
  });

  it("reads topic sizing and KAFKA_CREATE_TOPICS", () => {
    expect(settings({ KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2", KAFKA_PARTITIONS: "12", KAFKA_CREATE_TOPICS: "false" })).toEqual({
      createTopics: false,
      replicationFactor: 3,
      minInsyncReplicas: 2,
      partitions: 12,
    });
    expect(problems({ KAFKA_REPLICATION_FACTOR: "2", KAFKA_MIN_INSYNC_REPLICAS: "3" })).toEqual(["KAFKA_MIN_INSYNC_REPLICAS: 3 exceeds KAFKA_REPLICATION_FACTOR 2"]);
  });

  it("reads the consumers' offset commit interval", () => {
    expect(settings({ KAFKA_COMMIT_INTERVAL_MS: "250" })).toEqual({ createTopics: true, commitIntervalMs: 250 });
    expect(problems({ KAFKA_COMMIT_INTERVAL_MS: "0" })[0]).toMatch(/^KAFKA_COMMIT_INTERVAL_MS/);
  });

  it("turns on TLS with the system CAs or with a CA file", async () => {
    expect(settings({ KAFKA_SSL: "true" }).ssl).toEqual({});
    const ca = join(dir, "ca.pem");
    await writeFile(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    expect(settings({ KAFKA_SSL_CA_FILE: ca }).ssl).toEqual({ ca: ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"] });
    expect(problems({ KAFKA_SSL_CA_FILE: join(dir, "missing.pem") })).toEqual([`KAFKA_SSL_CA_FILE: cannot read ${join(dir, "missing.pem")} (ENOENT)`]);
  });

  it("passes SCRAM credentials and requires all three SASL variables together", () => {
    expect(settings({ KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "steward", KAFKA_SASL_PASSWORD: "s3cret" }).sasl).toEqual({
      mechanism: "scram-sha-512",
      username: "steward",
      password: "s3cret",
    });
    expect(problems({ KAFKA_SASL_MECHANISM: "scram-sha-256", KAFKA_SASL_USERNAME: "steward" })).toEqual(["KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM"]);
    expect(problems({ KAFKA_SASL_PASSWORD: "s3cret" })[0]).toMatch(/^KAFKA_SASL_MECHANISM: required/);
    expect(() => settings({ KAFKA_SASL_MECHANISM: "gssapi" })).toThrow(ConfigError);
  });

  it("refuses SASL PLAIN without TLS", () => {
    expect(problems({ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" })).toEqual([
      "KAFKA_SASL_MECHANISM: plain needs KAFKA_SSL=true (it sends the password unencrypted)",
    ]);
    expect(settings({ KAFKA_SSL: "true", KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" }).sasl?.mechanism).toBe("plain");
  });

  it("never puts the password in an error", () => {
    const secret = "hunter2-do-not-print";
    const all = [...problems({ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: secret }), ...problems({ KAFKA_SASL_PASSWORD: secret })];
    expect(all.length).toBeGreaterThan(0);
    expect(all.join("\n")).not.toContain(secret);
  });
});
