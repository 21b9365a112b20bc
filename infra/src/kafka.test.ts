// Fast checks of the Kafka process manager that need no running broker. The full lifecycle (start,
// produce/consume, kill -9 a node, restart, stop) runs against real Kafka in the integration tests.
import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { newClusterId, prepareKafka, stopKafka, waitForKafka } from "./kafka.ts";

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "steward-kafka-test-"));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

describe("stopKafka", () => {
  it("does nothing for a state dir that was never used", async () => {
    await expect(stopKafka(join(await tempDir(), "missing"))).resolves.toBeUndefined();
  });

  it("never signals a process that is not this state dir's Kafka, even if a stale pid file names it", async () => {
    const stateDir = await tempDir();
    await mkdir(join(stateDir, "node-1"));
    // Our own pid stands in for a pid the OS reused after the broker died.
    await writeFile(join(stateDir, "node-1", "kafka.pid"), `${process.pid}\n`);

    await stopKafka(stateDir);

    expect(await readdir(join(stateDir, "node-1"))).not.toContain("kafka.pid");
  });
});

describe("waitForKafka", () => {
  it("gives up after the timeout and names the brokers it waited for", async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    await expect(waitForKafka([broker], 1_000)).rejects.toThrow(`kafka at ${broker} not ready after 1000 ms`);
  });
});

describe("prepareKafka", () => {
  it("names the missing tool and how to install it", async () => {
    const saved = process.env["JAVA_HOME"];
    process.env["JAVA_HOME"] = join(await tempDir(), "no-jdk");
    try {
      await expect(prepareKafka()).rejects.toThrow(/java not found.*apt-get install -y openjdk-17-jre-headless maven/);
    } finally {
      if (saved === undefined) delete process.env["JAVA_HOME"];
      else process.env["JAVA_HOME"] = saved;
    }
  });
});

describe("newClusterId", () => {
  it("makes ids the storage tool accepts: 22 base64url characters, never a leading dash", () => {
    // One id in 64 would start with "-" if nothing prevented it: 20 000 draws miss that with odds of 1e-137.
    const ids = Array.from({ length: 20_000 }, () => newClusterId());
    expect(ids.filter((id) => id.startsWith("-"))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
