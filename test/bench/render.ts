// Re-renders latest.md and latency-vs-load.png from a results directory's latest.json, without a run:
//   node test/bench/render.ts [dir]   (default test/bench/results)
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResults } from "./run.ts";
import { writeResults } from "./write-results.ts";

const dir = process.argv[2] ?? fileURLToPath(new URL("./results/", import.meta.url));
const results = JSON.parse(await readFile(join(dir, "latest.json"), "utf8")) as BenchResults;
await writeResults(results, dir);
process.stdout.write(`rendered ${join(dir, "latest.md")} and latency-vs-load.png\n`);
