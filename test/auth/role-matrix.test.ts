// The whole "who may do what" matrix against a running embedded default with auth on: every RPC
// of every service × every role, no token, expired, wrong issuer, tampered, an SDK key and every
// service identity. Expected codes come from the policy table; an allowed call may still fail
// on its empty request (INVALID_ARGUMENT, NOT_FOUND...), never with UNAUTHENTICATED or PERMISSION_DENIED.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { allServices } from "@lotty/embedded/services";
import { allows, bearerInterceptor, mintUserToken, ROLES, ruleFor, SERVICE_NAMES, serviceTokenSigner, type Actor, type Role, type ServiceName } from "@lotty/platform/auth";
import { startEmbedded, type EmbeddedLotty } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { create } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { ValueType } from "@lotty/proto/common";
import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService } from "@lotty/proto/experiment";
import { GuardrailService } from "@lotty/proto/guardrail";
import { MetricsService } from "@lotty/proto/metrics";
import { NotificationService } from "@lotty/proto/notification";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const bool = (value: boolean) => create(ValueSchema, { kind: { case: "boolValue", value } });

const SERVICES: DescService[] = [ExperimentService, DecisionService, MetricsService, GuardrailService, NotificationService];

type Expect = "allowed" | Code.Unauthenticated | Code.PermissionDenied;

interface Caller {
  name: string;
  /** Bearer credential; undefined = none. */
  credential: () => Promise<string | undefined>;
  /** The actor the policy sees, for valid credentials. */
  actor?: Actor;
}

/** Flips one character in the middle of the signature: same header and claims, bad signature. */
function tamper(jwt: string): string {
  const [h, p, s] = jwt.split(".");
  const i = Math.floor(s.length / 2);
  return `${h}.${p}.${s.slice(0, i)}${s[i] === "A" ? "B" : "A"}${s.slice(i + 1)}`;
}

describe("role matrix (embedded default, auth on)", () => {
  let lotty: EmbeddedLotty;
  let url: string;
  let sdkKey: string;
  const clients = new Map<string, Transport>();

  const transport = (credential: string | undefined): Transport => {
    const key = credential ?? "";
    let t = clients.get(key);
    if (!t) {
      t = createGrpcTransport({ baseUrl: url, defaultTimeoutMs: 15_000, interceptors: credential ? [bearerInterceptor(() => credential)] : [] });
      clients.set(key, t);
    }
    return t;
  };
  const as = <T extends DescService>(service: T, credential: string | undefined): Client<T> => createClient(service, transport(credential));
  const token = (sub: string, roles: Role[], ttlSeconds = 600) => lotty.auth!.mintToken({ sub, roles, ttlSeconds });

  async function codeOf(service: DescService, method: DescMethod, credential: string | undefined): Promise<Code | "ok"> {
    const client = as(service, credential) as unknown as Record<string, (req: object) => Promise<unknown>>;
    try {
      await client[method.localName]({});
      return "ok";
    } catch (err) {
      return ConnectError.from(err).code;
    }
  }

  beforeAll(async () => {
    lotty = await startEmbedded(allServices, { port: 0, host: "127.0.0.1", logger: createLogger("test", { level: "silent" }) });
    url = `http://127.0.0.1:${lotty.port}`;
    const admin = as(ExperimentService, await token("root", ["admin"]));
    await admin.createFlag({ key: "auth.flag", valueType: ValueType.BOOL, defaultValue: bool(false) });
    const created = await admin.createSdkKey({ name: "matrix", environment: "test" });
    sdkKey = created.secret;
    // The decision and metrics services hear of the key through the change event.
    await vi.waitFor(async () => expect(await codeOf(DecisionService, DecisionService.method.decide, sdkKey)).not.toBe(Code.Unauthenticated), { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await lotty?.close();
  });

  it("walks every RPC × every caller and gets the policy's answer", async () => {
    const settings = lotty.auth!.settings;
    const secret = settings.jwt.key.kind === "secret" ? settings.jwt.key.secret : "";
    const callers: Array<Caller & { expectFor(rule: NonNullable<ReturnType<typeof ruleFor>>): Expect }> = [];
    const judged = (actor: Actor) => (rule: NonNullable<ReturnType<typeof ruleFor>>): Expect => (allows(rule, actor) ? "allowed" : Code.PermissionDenied);
    for (const role of ROLES) {
      const t = await token(`user-${role}`, [role]);
      callers.push({ name: `role ${role}`, credential: async () => t, expectFor: judged({ id: `user-${role}`, kind: "user", roles: [role], credential: "token" }) });
    }
    const noRoles = await token("nobody", []);
    callers.push({ name: "token without roles", credential: async () => noRoles, expectFor: judged({ id: "nobody", kind: "user", roles: [], credential: "token" }) });
    callers.push({ name: "SDK key", credential: async () => sdkKey, expectFor: judged({ id: "sdk", kind: "system", roles: [], credential: "sdk-key" }) });
    for (const name of SERVICE_NAMES) {
      const sign = serviceTokenSigner(name as ServiceName, settings.serviceSecret);
      callers.push({ name: `service:${name}`, credential: sign, expectFor: judged({ id: `service:${name}`, kind: "service", roles: [], credential: "service-token" }) });
    }
    const unauthenticated = (): Expect => Code.Unauthenticated;
    const expired = await mintUserToken({ secret, sub: "late", roles: ["admin"], ttlSeconds: -120 });
    const foreign = await mintUserToken({ secret, sub: "mallory", roles: ["admin"], ttlSeconds: 600, issuer: "someone-else" });
    const otherAudience = await mintUserToken({ secret, sub: "mallory", roles: ["admin"], ttlSeconds: 600, audience: "another-app" });
    const forged = await mintUserToken({ secret: "x".repeat(40), sub: "mallory", roles: ["admin"], ttlSeconds: 600 });
    const tampered = tamper(await token("mallory", ["viewer"]));
    const forgedService = await serviceTokenSigner("decision", "y".repeat(40))();
    for (const [name, cred] of [
      ["no token", undefined],
      ["expired", expired],
      ["wrong issuer", foreign],
      ["wrong audience", otherAudience],
      ["signed with another key", forged],
      ["tampered signature", tampered],
      ["forged service token", forgedService],
      ["unknown SDK key", "lotty_sdk_notarealkey000000000000000000"],
      ["garbage", "not-a-token"],
    ] as const) {
      callers.push({ name, credential: async () => cred, expectFor: unauthenticated });
    }

    const mismatches: string[] = [];
    let checked = 0;
    for (const service of SERVICES) {
      for (const method of service.methods) {
        const rule = ruleFor(service.typeName, method.name);
        expect(rule, `${service.name}.${method.name} has a policy entry`).toBeDefined();
        const results = await Promise.all(
          callers.map(async (c) => {
            const want = c.expectFor(rule!);
            const got = await codeOf(service, method, await c.credential());
            const ok = want === "allowed" ? got !== Code.Unauthenticated && got !== Code.PermissionDenied : got === want;
            return ok ? undefined : `${service.name}.${method.name} as ${c.name}: want ${want === "allowed" ? "allowed" : Code[want]}, got ${got === "ok" ? "ok" : Code[got]}`;
          }),
        );
        checked += callers.length;
        mismatches.push(...results.filter((r): r is string => r !== undefined));
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  }, 180_000);

  it("answers health checks without credentials", async () => {
    const { Health } = await import("@lotty/proto/grpc-health");
    const res = await as(Health, undefined).check({ service: "" });
    expect(res.status).toBeGreaterThan(0);
  });

  it("records the verified caller, not the x-lotty-actor header", async () => {
    const alice = await token("alice", ["experimenter"]);
    const t = createGrpcTransport({
      baseUrl: url,
      interceptors: [bearerInterceptor(() => alice), (next) => (req) => (req.header.set("x-lotty-actor", "mallory"), next(req))],
    });
    const experiment = createClient(ExperimentService, t);
    await experiment.createFlag({ key: "auth.who", valueType: ValueType.BOOL, defaultValue: bool(false) });
    const { experiment: e } = await experiment.createExperiment({
      experiment: {
        name: "who",
        owner: "alice",
        flagKey: "auth.who",
        trafficAllocation: 100,
        variants: [
          { name: "control", control: true, weight: 1, value: bool(false) },
          { name: "b", weight: 1, value: bool(true) },
        ],
      },
    });
    const { events } = await experiment.listAuditEvents({ experimentId: e!.id });
    expect(events.map((ev) => ev.actor?.id)).toEqual(["alice"]);
  });

  it("accepts an SDK key for Decide and refuses it once revoked", async () => {
    const admin = as(ExperimentService, await token("root", ["admin"]));
    const { key, secret } = await admin.createSdkKey({ name: "short-lived", environment: "test" });
    const decide = () => codeOf(DecisionService, DecisionService.method.decide, secret);
    // Allowed: an empty request fails validation, not authentication.
    await expect.poll(decide, { timeout: 10_000 }).toBe(Code.InvalidArgument);
    await expect(as(DecisionService, secret).decide({ flagKey: "auth.flag", subjectId: "u1" })).resolves.toMatchObject({ flagKey: "auth.flag" });
    await admin.revokeSdkKey({ id: key!.id });
    await expect.poll(decide, { timeout: 10_000 }).toBe(Code.Unauthenticated);
    await expect.poll(() => codeOf(MetricsService, MetricsService.method.trackEvents, secret), { timeout: 10_000 }).toBe(Code.Unauthenticated);
  });

  it("lets the decision service load the ruleset with its service token, and no other service", async () => {
    const decision = lotty.modules.find((m) => m.name === "decision") as unknown as { refreshRuleset(): Promise<void> };
    await expect(decision.refreshRuleset()).resolves.toBeUndefined();
    const asDecision = as(ExperimentService, await serviceTokenSigner("decision", lotty.auth!.settings.serviceSecret)());
    const { ruleset } = await asDecision.getRuleset({});
    expect(ruleset?.sdkKeys.length).toBeGreaterThan(0);
    const asNotification = as(ExperimentService, await serviceTokenSigner("notification", lotty.auth!.settings.serviceSecret)());
    await expect(asNotification.getRuleset({})).rejects.toMatchObject({ code: Code.PermissionDenied });
  });

  it("guards OFREP with SDK keys (401/403 JSON)", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/ofrep/v1/evaluate/flags/auth.flag`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ context: { targetingKey: "u1" } }) });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ errorCode: "UNAUTHORIZED" });
    expect((await post({ authorization: `Bearer ${await token("v", ["viewer"])}` })).status).toBe(403);
    const ok = await post({ authorization: `Bearer ${sdkKey}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ key: "auth.flag", value: false });
    expect((await post({ "x-api-key": sdkKey })).status).toBe(200);
    // Public probes stay public.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
