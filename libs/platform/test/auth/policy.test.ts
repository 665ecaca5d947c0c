import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService } from "@lotty/proto/experiment";
import { GuardrailService } from "@lotty/proto/guardrail";
import { MetricsService } from "@lotty/proto/metrics";
import { NotificationService } from "@lotty/proto/notification";
import { Health } from "@lotty/proto/grpc-health";
import * as reflection from "@lotty/proto/grpc-reflection";
import * as reflectionAlpha from "@lotty/proto/grpc-reflection-v1alpha";
import { describe, expect, it } from "vitest";
import { allows, httpRuleFor, publicServices, ROLES, rpcPolicy, ruleFor, SERVICE_NAMES, type Actor } from "../../src/auth/index.js";

const SERVICES = [ExperimentService, DecisionService, MetricsService, GuardrailService, NotificationService];
const user = (roles: Actor["roles"]): Actor => ({ id: "u", kind: "user", roles, credential: "token" });
const sdk: Actor = { id: "sdk-key:1", kind: "system", roles: [], credential: "sdk-key" };
const service = (name: string): Actor => ({ id: `service:${name}`, kind: "service", roles: [], credential: "service-token" });

describe("the policy table", () => {
  it("has an entry for every RPC of every service, and none for RPCs that do not exist", () => {
    const missing = SERVICES.flatMap((s) => s.methods.filter((m) => !rpcPolicy[s.typeName]?.[m.name]).map((m) => `${s.typeName}/${m.name}`));
    expect(missing).toEqual([]);
    const stale = Object.entries(rpcPolicy).flatMap(([typeName, methods]) => {
      const svc = SERVICES.find((s) => s.typeName === typeName);
      return Object.keys(methods).filter((name) => !svc?.methods.some((m) => m.name === name)).map((name) => `${typeName}/${name}`);
    });
    expect(stale).toEqual([]);
  });

  it("keeps health and reflection public, and refuses RPCs it does not know", () => {
    for (const s of [Health, reflection.ServerReflection, reflectionAlpha.ServerReflection]) expect(publicServices).toContain(s.typeName);
    expect(ruleFor(Health.typeName, "Check")?.public).toBe(true);
    expect(ruleFor("lotty.experiment.v1.ExperimentService", "DropAllTables")).toBeUndefined();
  });

  it("lets admins call every RPC, and nobody without credentials", () => {
    for (const s of SERVICES) for (const m of s.methods) expect(allows(ruleFor(s.typeName, m.name)!, user(["admin"])), m.name).toBe(true);
    for (const s of SERVICES) for (const m of s.methods) expect(ruleFor(s.typeName, m.name)!.public ?? false, m.name).toBe(false);
  });

  it("gives reads to viewers, writes to experimenters, approvals to approvers, SDK key admin to admins", () => {
    const exp = ExperimentService.typeName;
    expect(allows(ruleFor(exp, "ListExperiments")!, user(["viewer"]))).toBe(true);
    expect(allows(ruleFor(exp, "CreateExperiment")!, user(["viewer"]))).toBe(false);
    expect(allows(ruleFor(exp, "CreateExperiment")!, user(["experimenter"]))).toBe(true);
    expect(allows(ruleFor(exp, "ApproveExperiment")!, user(["experimenter"]))).toBe(false);
    expect(allows(ruleFor(exp, "ApproveExperiment")!, user(["approver"]))).toBe(true);
    expect(allows(ruleFor(exp, "CreateSdkKey")!, user(["experimenter", "approver", "viewer"]))).toBe(false);
    expect(allows(ruleFor(exp, "GetRuleset")!, service("decision"))).toBe(true);
    expect(allows(ruleFor(exp, "GetRuleset")!, service("notification"))).toBe(false);
    expect(allows(ruleFor(exp, "PauseExperiment")!, service("guardrail"))).toBe(true);
    expect(allows(ruleFor(exp, "StartExperiment")!, service("guardrail"))).toBe(false);
  });

  it("takes SDK keys only for Decide, DecideBatch, TrackEvents and OFREP", () => {
    const sdkRpcs = SERVICES.flatMap((s) => s.methods.filter((m) => allows(ruleFor(s.typeName, m.name)!, sdk)).map((m) => m.name));
    expect(sdkRpcs.sort()).toEqual(["Decide", "DecideBatch", "TrackEvents"]);
    expect(allows(httpRuleFor("/ofrep/v1/evaluate/flags/x")!, sdk)).toBe(true);
    expect(allows(httpRuleFor("/ofrep/v1/evaluate/flags/x")!, user(["viewer"]))).toBe(false);
    expect(httpRuleFor("/metrics")).toBeUndefined();
  });

  it("names only known roles and service identities", () => {
    for (const methods of Object.values(rpcPolicy)) {
      for (const rule of Object.values(methods)) {
        for (const r of rule.roles) expect(ROLES).toContain(r);
        for (const s of rule.services ?? []) expect(SERVICE_NAMES).toContain(s);
      }
    }
  });
});
