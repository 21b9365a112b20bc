// npm run check:deploy — what can be checked of deploy/ without a container engine or a cluster:
// every Kustomize overlay renders, and every Deployment in it has probes, resources and a non-root
// security context; every Dockerfile builds a service that exists, from every workspace manifest; the
// compose file parses and names every service. kustomize is built from the Go module proxy into
// .steward/tools on first use, like FerretDB (CI starts from a fresh clone with an empty HOME).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../", import.meta.url));
const deploy = join(root, "deploy");
const toolsDir = join(root, ".steward", "tools");
/** Pinned: v5.8.2 and later need Go 1.26+, and FerretDB's build asks only for Go 1.24. */
const KUSTOMIZE = "sigs.k8s.io/kustomize/kustomize/v5@v5.8.1";
const HEALTH = { readiness: "/health/ready", liveness: "/health/live" } as const;

const problems: string[] = [];
const problem = (where: string, what: string) => problems.push(`${where}: ${what}`);

async function kustomize(): Promise<string> {
  const bin = join(toolsDir, "kustomize");
  // A binary from an older pin is rebuilt, so every clone renders with the same version.
  const have = existsSync(bin) ? (await run(bin, ["version"]).catch(() => ({ stdout: "" }))).stdout.trim() : "";
  if (have === KUSTOMIZE.slice(KUSTOMIZE.indexOf("@") + 1)) return bin;
  process.stderr.write(`check:deploy: installing ${KUSTOMIZE} into ${toolsDir} (once)\n`);
  await mkdir(toolsDir, { recursive: true });
  try {
    await run("go", ["install", KUSTOMIZE], {
      env: { ...process.env, GOBIN: toolsDir, CGO_ENABLED: "0", GOFLAGS: `${process.env["GOFLAGS"] ?? ""} -modcacherw`.trim() },
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error("go not found on PATH (needed once to build kustomize); apt-get install -y golang");
    throw new Error(`go install ${KUSTOMIZE} failed:\n${e.stderr ?? e.message}`);
  }
  return bin;
}

type Doc = Record<string, unknown>;

/** A nested field of parsed YAML, or undefined when any step is missing. */
function get(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const key of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}
const labelsAt = (value: unknown, ...path: string[]) => (get(value, ...path) ?? {}) as Record<string, string>;

interface Container {
  name?: string;
  image?: string;
  readinessProbe?: { httpGet?: { path?: string } };
  livenessProbe?: { httpGet?: { path?: string } };
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; allowPrivilegeEscalation?: boolean };
}

/** The rules every rendered Deployment must meet; exported for the unit test. */
export function deploymentProblems(doc: Doc): string[] {
  const out: string[] = [];
  const pod = (get(doc, "spec", "template", "spec") ?? {}) as { securityContext?: Container["securityContext"]; containers?: Container[] };
  const containers = pod.containers ?? [];
  if (containers.length === 0) out.push("no containers");
  for (const c of containers) {
    const at = `container ${c.name ?? "?"}`;
    if (c.readinessProbe?.httpGet?.path !== HEALTH.readiness) out.push(`${at}: readinessProbe must GET ${HEALTH.readiness}`);
    if (c.livenessProbe?.httpGet?.path !== HEALTH.liveness) out.push(`${at}: livenessProbe must GET ${HEALTH.liveness}`);
    const r = c.resources;
    if (!r?.requests?.cpu || !r.requests.memory) out.push(`${at}: resources.requests needs cpu and memory`);
    if (!r?.limits?.memory) out.push(`${at}: resources.limits needs memory`);
    // The container's own settings win over the pod's.
    const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
    const user = c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    if (nonRoot !== true) out.push(`${at}: securityContext.runAsNonRoot must be true`);
    if (user === 0) out.push(`${at}: runAsUser 0 is root`);
    if (c.securityContext?.allowPrivilegeEscalation !== false) out.push(`${at}: securityContext.allowPrivilegeEscalation must be false`);
  }
  return out;
}

async function checkOverlays(serviceNames: string[]): Promise<void> {
  const overlays = join(deploy, "k8s", "overlays");
  const names = (await readdir(overlays, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  if (names.length === 0) problem("deploy/k8s/overlays", "no overlay");
  const bin = await kustomize();
  for (const overlay of names) {
    const where = `deploy/k8s/overlays/${overlay}`;
    let rendered: string;
    try {
      rendered = (await run(bin, ["build", join(overlays, overlay)], { maxBuffer: 16 * 1024 * 1024 })).stdout;
    } catch (err) {
      problem(where, `kustomize build failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
      continue;
    }
    const docs = parseAllDocuments(rendered)
      .map((d) => d.toJS() as Doc)
      .filter(Boolean);
    const of = (kind: string) => docs.filter((d) => d["kind"] === kind);
    const deployments = of("Deployment");
    const nameOf = (d: Doc) => String(get(d, "metadata", "name"));
    const deploymentNames = new Set(deployments.map(nameOf));
    for (const d of deployments) for (const p of deploymentProblems(d)) problem(`${where} Deployment ${nameOf(d)}`, p);
    for (const s of serviceNames) if (!deploymentNames.has(`steward-${s}`)) problem(where, `no Deployment steward-${s}`);
    for (const d of deployments) {
      const labels = labelsAt(d, "spec", "selector", "matchLabels");
      const covered = of("PodDisruptionBudget").some((p) => Object.entries(labelsAt(p, "spec", "selector", "matchLabels")).every(([k, v]) => labels[k] === v));
      if (!covered) problem(`${where} Deployment ${nameOf(d)}`, "no PodDisruptionBudget selects it");
    }
    for (const h of of("HorizontalPodAutoscaler")) {
      const target = String(get(h, "spec", "scaleTargetRef", "name"));
      if (!deploymentNames.has(target)) problem(`${where} HPA ${nameOf(h)}`, `targets ${target}, which is not rendered`);
      // One matcher holds the lease (ADR 0004): replicas add gateways, not matching, so no autoscaling.
      if (target === "steward-routing") problem(`${where} HPA ${nameOf(h)}`, "routing runs with a matcher lease; do not autoscale it");
    }
  }
}

async function checkDockerfiles(serviceNames: string[], manifests: string[]): Promise<void> {
  const dir = join(deploy, "docker");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".Dockerfile"));
  for (const s of serviceNames) if (!files.includes(`${s}.Dockerfile`)) problem("deploy/docker", `no ${s}.Dockerfile`);
  for (const f of files) {
    const where = `deploy/docker/${f}`;
    const name = f.slice(0, -".Dockerfile".length);
    if (!serviceNames.includes(name)) problem(where, `names no service (services/: ${serviceNames.join(", ")})`);
    const text = await readFile(join(dir, f), "utf8");
    const cmd = /^CMD \["node", "(services\/([^/]+)\/src\/main\.ts)"\]$/m.exec(text);
    if (!cmd?.[1] || cmd[2] !== name) problem(where, `CMD must be ["node", "services/${name}/src/main.ts"]`);
    else if (!existsSync(join(root, cmd[1]))) problem(where, `${cmd[1]} does not exist`);
    for (const m of manifests) if (!text.includes(`COPY ${m}/package.json ${m}/`)) problem(where, `does not copy ${m}/package.json (the install would not match the lockfile)`);
    const users = [...text.matchAll(/^USER (\S+)/gm)].map((u) => u[1] ?? "");
    const last = users.at(-1);
    if (last === undefined || !/^[1-9]\d*(:\d+)?$/.test(last)) problem(where, "the final stage must set a numeric non-root USER (Kubernetes checks runAsNonRoot by number)");
  }
}

async function checkCompose(serviceNames: string[]): Promise<void> {
  const where = "deploy/compose.yaml";
  let compose: Doc;
  try {
    // merge: the `<<: *anchor` keys compose files use are YAML 1.1, off by default in the parser.
    compose = parse(await readFile(join(deploy, "compose.yaml"), "utf8"), { merge: true, prettyErrors: true }) as Doc;
  } catch (err) {
    problem(where, `does not parse: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const services = (compose["services"] ?? {}) as Record<string, Doc>;
  for (const s of ["kafka", "mongo", "otel-collector", ...serviceNames]) if (!services[s]) problem(where, `no service ${s}`);
  for (const [name, svc] of Object.entries(services)) {
    const dockerfile = get(svc, "build", "dockerfile") as string | undefined;
    if (dockerfile !== undefined && !existsSync(join(root, dockerfile))) problem(where, `${name} builds from ${dockerfile}, which does not exist`);
  }
  for (const s of serviceNames) {
    const env = labelsAt(services[s], "environment");
    for (const key of ["KAFKA_BROKERS", "MONGODB_URI", "MONGODB_DATABASE"]) if (!env[key]) problem(where, `${s} has no ${key}`);
  }
  // Each service its own database, so no service's writes queue behind another's (ADR 0013).
  const databases = serviceNames.map((s) => labelsAt(services[s], "environment")["MONGODB_DATABASE"]);
  if (new Set(databases).size !== databases.length) problem(where, `services share a database: ${databases.join(", ")}`);
}

/** Workspace directories from the root package.json's globs (only the `dir/*` and `dir` forms used). */
async function workspaceDirs(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { workspaces: string[] };
  const dirs: string[] = [];
  for (const w of pkg.workspaces) {
    if (w.endsWith("/*")) {
      const base = w.slice(0, -2);
      for (const d of await readdir(join(root, base), { withFileTypes: true }))
        if (d.isDirectory() && existsSync(join(root, base, d.name, "package.json"))) dirs.push(`${base}/${d.name}`);
    } else dirs.push(w);
  }
  return dirs;
}

if (import.meta.main) {
  const manifests = await workspaceDirs();
  const serviceNames = manifests.filter((m) => m.startsWith("services/")).map((m) => m.slice("services/".length));
  try {
    await checkDockerfiles(serviceNames, manifests);
    await checkCompose(serviceNames);
    await checkOverlays(serviceNames);
  } catch (err) {
    problem("check:deploy", err instanceof Error ? err.message : String(err));
  }
  if (problems.length > 0) {
    process.stderr.write(`check:deploy: ${problems.length} problem(s)\n  ${problems.join("\n  ")}\n`);
    process.exit(1);
  }
  process.stdout.write(`check:deploy: ${serviceNames.length} Dockerfiles, compose.yaml and the Kustomize overlays are consistent\n`);
}
