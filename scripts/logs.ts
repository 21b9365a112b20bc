// ./steward logs [name] [-n lines] [--no-follow] — the last lines of a service's log (all four services
// when no name is given; also kafka and ferretdb), then new lines as they are written, like tail -f.
import { open, stat } from "node:fs/promises";
import { logFiles, services } from "./local-run.ts";

const usage = "usage: ./steward logs [intake|triage|routing|escalation|kafka|ferretdb] [-n lines] [--no-follow]";
const args = process.argv.slice(2);
let lines = 50;
let follow = true;
const names: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === "-n" || a === "--lines") {
    lines = Number(args[++i]);
    if (!Number.isInteger(lines) || lines < 0) {
      process.stderr.write(`-n needs a whole number\n${usage}\n`);
      process.exit(2);
    }
  } else if (a === "--no-follow") follow = false;
  else if (a === "-f" || a === "--follow") follow = true;
  else names.push(a);
}

const known = await logFiles();
const chosen =
  names.length === 0
    ? known.filter((f) => services.some((s) => s.name === f.name))
    : names
        .map((n) => {
          // "kafka" names every node of a multi-node cluster.
          const found = known.filter((f) => f.name === n || (n === "kafka" && f.name.startsWith("kafka-")));
          if (found.length === 0) {
            process.stderr.write(`no log named ${n}; known: ${known.map((f) => f.name).join(", ")}\n${usage}\n`);
            process.exit(2);
          }
          return found;
        })
        .flat();

const width = Math.max(...chosen.map((f) => f.name.length));
const prefixOf = (name: string) => (chosen.length > 1 ? `${name.padEnd(width)} | ` : "");

async function readFrom(file: string, from: number): Promise<{ text: string; size: number }> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= from) return { text: "", size };
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(size - from);
    await fh.read(buf, 0, buf.length, from);
    return { text: buf.toString("utf8"), size };
  } finally {
    await fh.close();
  }
}

const state = await Promise.all(
  chosen.map(async (f) => {
    const { text, size } = await readFrom(f.file, 0);
    const all = text.split("\n");
    if (all.at(-1) === "") all.pop();
    for (const line of lines === 0 ? [] : all.slice(-lines)) process.stdout.write(`${prefixOf(f.name)}${line}\n`);
    if (size === 0) process.stderr.write(`(${f.name}: no log yet at ${f.file})\n`);
    return { ...f, pos: size, partial: "" };
  }),
);

while (follow) {
  for (const s of state) {
    const size = await stat(s.file).then(
      (st) => st.size,
      () => 0,
    );
    // A smaller file was replaced (a clean start removes Kafka's state dir): read it from the top.
    if (size < s.pos) s.pos = 0;
    const { text, size: now } = await readFrom(s.file, s.pos);
    s.pos = Math.max(s.pos, now);
    if (text === "") continue;
    const parts = (s.partial + text).split("\n");
    s.partial = parts.pop() ?? "";
    for (const line of parts) process.stdout.write(`${prefixOf(s.name)}${line}\n`);
  }
  await new Promise((r) => setTimeout(r, 250));
}
