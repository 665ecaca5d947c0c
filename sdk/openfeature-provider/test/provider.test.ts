import { create } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { allServices } from "@lotty/embedded/services";
import { startEmbedded, type EmbeddedLotty } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { ValueType } from "@lotty/proto/common";
import { ExperimentService } from "@lotty/proto/experiment";
import { OpenFeature, StandardResolutionReasons } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LottyProvider } from "../src/index.js";

const str = (value: string) => create(ValueSchema, { kind: { case: "stringValue", value } });

describe("LottyProvider with the stock OpenFeature server SDK", () => {
  let lotty: EmbeddedLotty;
  let provider: LottyProvider;

  beforeAll(async () => {
    lotty = await startEmbedded(allServices, { port: 0, host: "127.0.0.1", logger: createLogger("test", { level: "silent" }) });
    const url = `http://127.0.0.1:${lotty.port}`;
    // Auth is on: people call with tokens (alice owns, bob approves), the provider with an SDK key.
    const tokens = { alice: await lotty.auth!.mintToken({ sub: "alice", roles: ["experimenter"] }), bob: await lotty.auth!.mintToken({ sub: "bob", roles: ["approver"] }) };
    const admin = (actor: keyof typeof tokens) =>
      createClient(ExperimentService, createGrpcTransport({ baseUrl: url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${tokens[actor]}`), next(req))] }));
    await admin("alice").createFlag({ key: "banner", valueType: ValueType.STRING, defaultValue: str("none") });
    await admin("alice").createFlag({ key: "limit", valueType: ValueType.NUMBER, defaultValue: create(ValueSchema, { kind: { case: "numberValue", value: 10 } }) });
    const { experiment } = await admin("alice").createExperiment({
      experiment: {
        name: "banner-test",
        owner: "alice",
        flagKey: "banner",
        trafficAllocation: 100,
        targeting: 'country == "US"',
        variants: [
          { name: "control", control: true, weight: 1, value: str("none") },
          { name: "treatment", weight: 1, value: str("spring-sale") },
        ],
      },
    });
    let v = experiment!.version;
    v = (await admin("alice").submitExperiment({ id: experiment!.id, expectedVersion: v })).experiment!.version;
    v = (await admin("bob").approveExperiment({ id: experiment!.id, expectedVersion: v })).experiment!.version;
    await admin("alice").startExperiment({ id: experiment!.id, expectedVersion: v });
    const keys = createClient(ExperimentService, createGrpcTransport({ baseUrl: url, interceptors: [(next) => async (req) => (req.header.set("authorization", `Bearer ${await lotty.auth!.mintToken({ sub: "root", roles: ["admin"] })}`), next(req))] }));
    const { secret: sdkKey } = await keys.createSdkKey({ name: "provider-test", environment: "test" });
    // The decision service learns of the key from the change event.
    await vi.waitFor(() => expect(lotty.modules.find((m) => m.sdkKeys)?.sdkKeys?.verify(sdkKey)).toBeDefined());
    provider = new LottyProvider({ url, cacheTtlMs: 60_000, sdkKey });
    await OpenFeature.setProviderAndWait(provider);
  }, 60_000);

  afterAll(async () => {
    await OpenFeature.close();
    await lotty?.close();
  });

  it("serves experiment variants with the SPLIT reason and the decision id", async () => {
    const client = OpenFeature.getClient();
    const d = await client.getStringDetails("banner", "fallback", { targetingKey: "user-1", country: "US" });
    expect(["none", "spring-sale"]).toContain(d.value);
    expect(d.reason).toBe(StandardResolutionReasons.SPLIT);
    expect(["control", "treatment"]).toContain(d.variant);
    expect(d.flagMetadata.decisionId).toBeTruthy();
    // Sticky: the same subject gets the same variant (from the cache, then from the service).
    const again = await client.getStringDetails("banner", "fallback", { targetingKey: "user-1", country: "US" });
    expect(again.value).toBe(d.value);
    expect(again.reason).toBe(StandardResolutionReasons.CACHED);
  });

  it("falls back to the flag default outside targeting, and reports errors as OpenFeature codes", async () => {
    const client = OpenFeature.getClient();
    const fr = await client.getStringDetails("banner", "fallback", { targetingKey: "user-2", country: "FR" });
    expect(fr.value).toBe("none");
    expect(fr.reason).toBe(StandardResolutionReasons.DEFAULT);
    const missing = await client.getBooleanDetails("no-such-flag", true, { targetingKey: "user-2" });
    expect(missing.value).toBe(true);
    expect(missing.errorCode).toBe("FLAG_NOT_FOUND");
    const wrongType = await client.getBooleanDetails("limit", false, { targetingKey: "user-2" });
    expect(wrongType.errorCode).toBe("TYPE_MISMATCH");
    expect(await client.getNumberValue("limit", 0, { targetingKey: "user-2" })).toBe(10);
    const noKey = await client.getStringDetails("banner", "fallback", {});
    expect(noKey.errorCode).toBe("TARGETING_KEY_MISSING");
  });

  it("prefetch fills the cache for many flags in one DecideBatch", async () => {
    const ctx = { targetingKey: "user-3", country: "US" };
    await provider.prefetch(ctx, ["banner", "limit"]);
    const client = OpenFeature.getClient();
    expect((await client.getStringDetails("banner", "x", ctx)).reason).toBe(StandardResolutionReasons.CACHED);
    expect((await client.getNumberDetails("limit", 0, ctx)).reason).toBe(StandardResolutionReasons.CACHED);
  });
});
