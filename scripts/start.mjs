// `npm start`: bundles the embedded default (our TypeScript only; npm packages stay external)
// with esbuild and runs it. Loading one bundle instead of ~300 TypeScript files through tsx
// takes seconds off every start, which the first-start and restart targets need.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = new URL("../", import.meta.url);
const outfile = new URL("node_modules/.cache/lotty/embedded.mjs", root).pathname;

/** Keeps `new URL("./x", import.meta.url)` pointing at the source tree (migrations live there). */
const sourceUrls = {
  name: "source-import-meta-url",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("@lotty/") ? undefined : { path: args.path, external: true }));
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      return { contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)), loader: "ts" };
    });
  },
};

/** Newest TypeScript source of ours (a stat walk is far cheaper than asking esbuild). */
async function newestSource() {
  let newest = 0;
  for (const top of ["apps", "libs", "services"]) {
    for (const entry of await readdir(new URL(top, root), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts") || entry.parentPath.includes("node_modules")) continue;
      newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
    }
  }
  return newest;
}

async function upToDate() {
  try {
    return (await stat(outfile)).mtimeMs > (await newestSource());
  } catch {
    return false;
  }
}

if (!(await upToDate())) {
  await build({
    entryPoints: [new URL("apps/embedded/src/main.ts", root).pathname],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile,
    plugins: [sourceUrls],
    logLevel: "warning",
  });
}
await import(pathToFileURL(outfile).href);
