import { createMemoryBus, type Bus } from "@lotty/platform/bus";
import { createMemoryCache } from "@lotty/platform/cache";
import { openPglite, type Db } from "@lotty/platform/db";
import { createRpcServer, type RpcServer } from "@lotty/platform/rpc";
import { OFREPProvider } from "@openfeature/ofrep-provider";
import { OpenFeature, type Client as OpenFeatureClient } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeExperimentService, silentLogger, startDecision, type Harness } from "./harness.js";
import { ruleset } from "./fixtures.js";

let db: Db;
let bus: Bus;
let harness: Harness;
let server: RpcServer;
let baseUrl: string;
let client: OpenFeatureClient;

beforeAll(async () => {
  db = await openPglite();
  bus = createMemoryBus();
  const experiment = new FakeExperimentService(
    ruleset({
      flags: ["checkout", "plain"],
      experiments: [{ id: "exp-checkout", flag: "checkout", targeting: 'country == "US"' }],
    }),
  );
  harness = await startDecision({ db, bus, cache: createMemoryCache(), experiment });
  server = createRpcServer({
    name: "decision",
    routes: (r) => harness.module.register(r),
    files: [...harness.module.files],
    http: [...(harness.module.http ?? [])],
    logger: silentLogger,
  });
  const { port } = await server.listen(0, "127.0.0.1");
  baseUrl = `http://127.0.0.1:${port}`;
  await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl }));
  client = OpenFeature.getClient();
});

afterAll(async () => {
  await OpenFeature.close();
  await server.close({ graceMs: 100 });
  await harness.close();
  await bus.close();
  await db.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("OFREP through the stock OpenFeature SDK and provider", () => {
  it("evaluates an experiment flag with the variant and a split reason", async () => {
    const details = await client.getStringDetails("checkout", "fallback", { targetingKey: "user-1", country: "US" });
    expect(["control", "treatment"]).toContain(details.value);
    expect([details.variant, details.reason]).toEqual([details.value, "SPLIT"]);
    expect(details.flagMetadata.experimentId).toBe("exp-checkout");
    // Sticky through OFREP too.
    expect((await client.getStringDetails("checkout", "fallback", { targetingKey: "user-1", country: "US" })).value).toBe(details.value);
  });

  it("serves the flag's default outside the experiment", async () => {
    const details = await client.getStringDetails("checkout", "fallback", { targetingKey: "user-2", country: "FR" });
    expect([details.value, details.reason, details.flagMetadata.lottyReason]).toEqual(["default", "DEFAULT", "targeting_mismatch"]);
  });

  it("reports an unknown flag as FLAG_NOT_FOUND and the caller's default", async () => {
    const details = await client.getStringDetails("missing", "fallback", { targetingKey: "user-1" });
    expect([details.value, details.errorCode]).toEqual(["fallback", "FLAG_NOT_FOUND"]);
  });

  it("reports a missing targeting key", async () => {
    const details = await client.getStringDetails("checkout", "fallback", {});
    expect([details.value, details.errorCode]).toEqual(["fallback", "TARGETING_KEY_MISSING"]);
  });
});

describe("OFREP over plain HTTP", () => {
  it("answers 404 / 400 with OFREP error bodies", async () => {
    const notFound = await post("/ofrep/v1/evaluate/flags/missing", { context: { targetingKey: "u" } });
    expect([notFound.status, await notFound.json()]).toEqual([404, { key: "missing", errorCode: "FLAG_NOT_FOUND", errorDetails: 'flag "missing" not found' }]);
    const bad = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags/checkout`, { method: "POST", body: "{nope" });
    expect([bad.status, (await bad.json()).errorCode]).toEqual([400, "PARSE_ERROR"]);
    const noKey = await post("/ofrep/v1/evaluate/flags/checkout", { context: {} });
    expect([noKey.status, (await noKey.json()).errorCode]).toEqual([400, "TARGETING_KEY_MISSING"]);
  });

  it("bulk-evaluates every flag", async () => {
    const res = await post("/ofrep/v1/evaluate/flags", { context: { targetingKey: "user-3", country: "US" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { flags: { key: string; reason: string; value: unknown }[] };
    expect(body.flags.map((f) => [f.key, f.reason]).sort()).toEqual([
      ["checkout", "SPLIT"],
      ["plain", "STATIC"],
    ]);
  });
});
