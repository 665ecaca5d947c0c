import { readFileSync } from "node:fs";
import { configTable } from "@lotty/platform/config";
import { decisionConfigSpec } from "@lotty/decision-service/env";
import { hostConfigSpec } from "@lotty/platform/host";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, "utf8");
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { scripts: Record<string, string> };

describe("README", () => {
  it("opens with the run command and the test command, both real npm scripts", () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const commands = firstBlock.split("\n").map((l) => l.replace(/#.*/, "").trim()).filter(Boolean);
    expect(commands).toEqual(["npm ci && npm start", "npm test"]);
    expect(pkg.scripts.start).toBe("node scripts/start.mjs");
    expect(pkg.scripts.test).toBeTruthy();
  });

  it("documents every configuration variable exactly as the code defines it", () => {
    expect(readme).toContain(configTable({ ...hostConfigSpec, ...decisionConfigSpec }));
  });

  it(".ci/run runs the same test command", () => {
    const ci = readFileSync(`${root}.ci/run`, "utf8");
    expect(ci).toMatch(/^npm test$/m);
  });
});
