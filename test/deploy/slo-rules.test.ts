// The decide SLO rules in deploy/: the plain rules file Prometheus loads in compose, the same rules
// as a ConfigMap for Kubernetes, and agreement with the in-process SLO definitions. promtool (the
// Debian `prometheus` package) validates and unit-tests them when installed.
import { spawnSync } from "node:child_process";
import { DECIDE_LATENCY_TARGET_MS, DECIDE_SLOS, SERVER_FAULT_CODES } from "@lotty/platform/slo";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { read, ROOT, yamlFile } from "./repo.js";

const RULES = "deploy/prometheus/slo-rules.yml";
const promtool = spawnSync("promtool", ["--version"]).status === 0;

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
}
const groups = (yamlFile(RULES) as { groups: { rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);

describe("decide SLO rules", () => {
  it("records availability and latency ratios over every burn-rate window", () => {
    const recorded = rules.flatMap((r) => (r.record ? [r.record] : []));
    for (const slo of ["availability", "latency"]) {
      for (const w of ["5m", "30m", "1h", "6h"]) expect(recorded).toContain(`lotty:decide_${slo}:ratio_rate${w}`);
    }
  });

  it("uses the fault codes, methods, latency target and objectives of the in-process SLOs", () => {
    const availability = rules.find((r) => r.record === "lotty:decide_availability:ratio_rate5m")!.expr;
    const codes = /code=~"([^"]+)"/.exec(availability)?.[1].split("|") ?? [];
    expect(new Set(codes)).toEqual(SERVER_FAULT_CODES);
    for (const slo of DECIDE_SLOS) {
      for (const m of slo.methods) expect(availability).toContain(m.split("/")[1]);
      const alerts = rules.filter((r) => r.alert && r.labels?.slo === slo.name);
      expect(alerts.map((a) => a.labels?.severity).sort()).toEqual(["page", "ticket"]);
      for (const a of alerts) expect(a.expr).toContain(`* ${Number((1 - slo.objective).toFixed(6))})`);
    }
    const latency = rules.find((r) => r.record === "lotty:decide_latency:ratio_rate5m")!.expr;
    expect(latency).toContain(`le="${DECIDE_LATENCY_TARGET_MS / 1000}"`);
  });

  it("ships the same rules as a ConfigMap in the kustomize base, and Prometheus in compose loads them", () => {
    const configMap = yamlFile("deploy/base/slo-rules.yaml") as { kind: string; data: Record<string, string> };
    expect(configMap.kind).toBe("ConfigMap");
    expect(parse(configMap.data["slo-rules.yml"])).toEqual(yamlFile(RULES));
    const prometheus = yamlFile("deploy/prometheus.yml") as { rule_files: string[] };
    expect(prometheus.rule_files).toEqual(["prometheus/slo-rules.yml"]);
    expect(read("docker-compose.yml")).toContain(`./${RULES}:/etc/prometheus/prometheus/slo-rules.yml:ro`);
  });

  it.skipIf(!promtool)("passes promtool check and its rule unit tests", () => {
    for (const args of [
      ["check", "rules", RULES],
      ["check", "config", "deploy/prometheus.yml"],
      ["test", "rules", "deploy/prometheus/slo-rules.test.yml"],
    ]) {
      const run = spawnSync("promtool", args, { cwd: ROOT, encoding: "utf8" });
      expect(run.status, `promtool ${args.join(" ")}\n${run.stdout}${run.stderr}`).toBe(0);
    }
  });
});
