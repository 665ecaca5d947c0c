// Reads the packaging files (Dockerfile, compose, Kubernetes manifests) and the facts in the
// code they must agree with, for deploy.test.ts. No Docker engine or cluster is needed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");
export const exists = (path: string): boolean => existsSync(join(ROOT, path));
export const packageJson = (dir: string): { version: string; scripts?: Record<string, string>; engines?: Record<string, string> } =>
  JSON.parse(read(join(dir, "package.json")));

/** services/<name> → defaultPort from its definition.ts: the port it takes when LOTTY_PORT is unset. */
export function servicePorts(): Map<string, number> {
  const ports = new Map<string, number>();
  for (const name of readdirSync(join(ROOT, "services")).sort()) {
    if (!exists(`services/${name}/src/definition.ts`)) continue;
    const m = /defaultPort: (\d+)/.exec(read(`services/${name}/src/definition.ts`));
    if (!m) throw new Error(`services/${name}/src/definition.ts has no defaultPort`);
    ports.set(name, Number(m[1]));
  }
  return ports;
}

/** The entry file deploy/docker/entrypoint.sh runs for a SERVICE value, or null when it rejects it. */
export function entryFor(service: string): string | null {
  const res = spawnSync("sh", ["deploy/docker/entrypoint.sh", "--check"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, LOTTY_SERVICE: service },
    encoding: "utf8",
  });
  return res.status === 0 ? res.stdout.trim() : null;
}

export type Json = Record<string, unknown>;

/** One YAML file, merge keys (`<<`) resolved the way Compose resolves them. */
export function yamlFile(path: string): Json {
  return parse(read(path), { merge: true }) as Json;
}

export interface Manifest {
  file: string;
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: Json;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

/** Every YAML file under dir, every document in it (a parse error fails the caller). */
export function yamlDocuments(dir: string): Manifest[] {
  const out: Manifest[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
    const file = relative(ROOT, join(entry.parentPath, entry.name));
    for (const doc of parseAllDocuments(read(file), { merge: true })) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const value = doc.toJS() as Json | null;
      if (value) out.push({ ...value, file });
    }
  }
  return out;
}

/** Dockerfile instructions, continuation lines joined and comments dropped. */
export function dockerInstructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/**
 * Whether .dockerignore keeps path out of the build context: the last matching rule wins, `!`
 * re-includes, and a rule matching a parent directory covers everything below it. Enough of
 * Docker's syntax for the rules this repository uses (`*`, `**`, `!`).
 */
export function dockerIgnored(rules: string[], path: string): boolean {
  const toRegex = (rule: string) =>
    new RegExp(
      `^${rule
        .replace(/^\//, "")
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*\*\//g, "\u0000")
        .replace(/\*/g, "[^/]*")
        .replace(/\u0000/g, "(?:.*/)?")}$`,
    );
  const segments = path.split("/");
  const prefixes = segments.map((_, i) => segments.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const prefix of prefixes) {
    for (const line of rules) {
      const rule = line.trim();
      if (!rule || rule.startsWith("#")) continue;
      const negated = rule.startsWith("!");
      if (toRegex(negated ? rule.slice(1) : rule).test(prefix)) ignored = !negated;
    }
  }
  return ignored;
}

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  os?: string[];
}

/**
 * The node_modules paths a package needs at run time on Linux, from the lockfile: itself and its
 * dependencies, transitively (optional ones only where they exist for Linux, e.g. esbuild's
 * @esbuild/linux-* binaries but not fsevents).
 */
export function lockClosure(name: string): string[] {
  const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, LockEntry> };
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const entry = lock.packages[path];
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      // Node's lookup: nested node_modules first, then the hoisted one.
      const nested = `${path}/node_modules/${dep}`;
      const found = lock.packages[nested] ? nested : lock.packages[`node_modules/${dep}`] ? `node_modules/${dep}` : undefined;
      const optional = !entry.dependencies?.[dep];
      if (!found) {
        if (optional) continue;
        throw new Error(`${path} needs ${dep}, which is not in the lockfile`);
      }
      const os = lock.packages[found].os;
      if (optional && os && !os.includes("linux")) continue;
      visit(found);
    }
  };
  visit(`node_modules/${name}`);
  return [...seen].sort();
}

/** Whether an image reference names a fixed version: a digest, or a tag other than latest. */
export function pinned(image: string): boolean {
  if (image.includes("@sha256:")) return true;
  const last = image.split("/").pop() ?? "";
  const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1) : "";
  return tag !== "" && tag !== "latest" && !tag.includes("$");
}
