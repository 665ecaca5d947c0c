import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient, createRouterTransport, type Client, type Transport } from "@connectrpc/connect";
import { ExperimentChangedSchema } from "@lotty/proto/events";
import { ExperimentService } from "@lotty/proto/experiment";
import { describe, expect, it } from "vitest";
import {
  actorOf,
  authInterceptor,
  bearerInterceptor,
  createAuthenticator,
  followSdkKeys,
  guardHttpRoutes,
  hashSdkKey,
  mintUserToken,
  SdkKeySet,
  serviceTokenSigner,
  serviceTokenVerifier,
  userTokenVerifier,
} from "../../src/auth/index.js";
import { createMemoryBus } from "../../src/bus/memory.js";
import { createMemoryCache } from "../../src/cache/memory.js";
import { createLogger } from "../../src/log/index.js";
import type { NodeRequest, NodeResponse } from "../../src/rpc/index.js";

const SECRET = "s".repeat(40);
const SERVICE_SECRET = "t".repeat(40);
const KEY = "lotty_sdk_abcdefghijklmnopqrstuvwxyz012345";
const logger = createLogger("test", { level: "silent" });

function setup() {
  const keys = new SdkKeySet();
  keys.replace([{ id: "k1", keyHash: hashSdkKey(KEY), environment: "prod" }]);
  const authenticate = createAuthenticator({
    user: userTokenVerifier({ issuer: "lotty", audience: "lotty", key: { kind: "secret", secret: SECRET }, algorithms: ["HS256"] }),
    service: serviceTokenVerifier(SERVICE_SECRET),
    sdkKeys: () => keys,
  });
  // Handlers answer with the caller actorOf() sees.
  const transport = createRouterTransport(
    (router) =>
      router.service(ExperimentService, {
        getFlag: (_req, ctx) => ({ flag: { key: actorOf(ctx).id } }),
        createFlag: (_req, ctx) => ({ flag: { key: actorOf(ctx).id } }),
        getRuleset: (_req, ctx) => ({ notModified: actorOf(ctx).id === "service:decision" }),
      }),
    { router: { interceptors: [authInterceptor({ authenticate })] } },
  );
  // Headers as a remote caller would send them.
  const as = (bearer?: string, actorHeader?: string): Client<typeof ExperimentService> => {
    const withHeaders: Transport = {
      unary: (method, signal, timeoutMs, header, input, values) => {
        const h = new Headers(header);
        if (bearer) h.set("authorization", `Bearer ${bearer}`);
        if (actorHeader) h.set("x-lotty-actor", actorHeader);
        return transport.unary(method, signal, timeoutMs, h, input, values);
      },
      stream: (...args) => transport.stream(...args),
    };
    return createClient(ExperimentService, withHeaders);
  };
  return { keys, authenticate, as };
}

const token = (roles: Parameters<typeof mintUserToken>[0]["roles"], sub = "alice") => mintUserToken({ secret: SECRET, sub, roles, ttlSeconds: 600 });

describe("authInterceptor", () => {
  it("answers UNAUTHENTICATED without credentials, and with bad ones without echoing them", async () => {
    const { as } = setup();
    await expect(as().getFlag({ key: "f" })).rejects.toMatchObject({ code: Code.Unauthenticated });
    const bad = `${(await token(["admin"])).slice(0, -4)}AAAA`;
    const err = await as(bad).getFlag({ key: "f" }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: Code.Unauthenticated });
    expect(String(err)).not.toContain(bad.split(".")[2]);
    await expect(as("lotty_sdk_revoked000000000000000000000000").getFlag({ key: "f" })).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("answers PERMISSION_DENIED to a valid caller whose roles the RPC does not allow", async () => {
    const { as } = setup();
    const viewer = as(await token(["viewer"]));
    await expect(viewer.getFlag({ key: "f" })).resolves.toMatchObject({ flag: { key: "alice" } });
    await expect(viewer.createFlag({ key: "f" })).rejects.toMatchObject({ code: Code.PermissionDenied });
    await expect(as(KEY).getFlag({ key: "f" })).rejects.toMatchObject({ code: Code.PermissionDenied });
  });

  it("hands handlers the verified actor and ignores x-lotty-actor", async () => {
    const { as } = setup();
    await expect(as(await token(["experimenter"], "alice"), "mallory").createFlag({ key: "f" })).resolves.toMatchObject({ flag: { key: "alice" } });
    await expect(as(undefined, "service:decision").getRuleset({})).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("accepts service tokens where the policy names the service", async () => {
    const { as } = setup();
    await expect(as(await serviceTokenSigner("decision", SERVICE_SECRET)()).getRuleset({})).resolves.toMatchObject({ notModified: true });
    await expect(as(await serviceTokenSigner("guardrail", SERVICE_SECRET)()).getRuleset({})).rejects.toMatchObject({ code: Code.PermissionDenied });
  });

  it("bearerInterceptor presents a token from its source", async () => {
    const seen: string[] = [];
    const transport = createRouterTransport((router) => router.service(ExperimentService, { getFlag: (_r, ctx) => (seen.push(ctx.requestHeader.get("authorization") ?? ""), {}) }), {
      transport: { interceptors: [bearerInterceptor(async () => "abc")] },
    });
    await createClient(ExperimentService, transport).getFlag({});
    expect(seen).toEqual(["Bearer abc"]);
  });
});

function fakeHttp(headers: Record<string, string>, url = "/ofrep/v1/evaluate/flags/x") {
  const res = { status: 0, body: "", headers: {} as Record<string, string> };
  const req = { url, method: "POST", headers } as unknown as NodeRequest;
  const response = {
    writeHead(status: number, h: Record<string, string>) {
      res.status = status;
      res.headers = h;
    },
    end(body: string) {
      res.body = body;
    },
  } as unknown as NodeResponse;
  return { req, response, res };
}

describe("guardHttpRoutes", () => {
  it("answers OFREP 401/403 as JSON, and passes SDK keys (bearer or X-API-Key) through", async () => {
    const { authenticate } = setup();
    let served = 0;
    const [route] = guardHttpRoutes([{ method: "POST", path: /^\/ofrep\//, handle: () => void served++ }], authenticate);
    const match = /x/.exec("x")!;
    for (const [headers, status] of [
      [{}, 401],
      [{ authorization: "Bearer lotty_sdk_nope" }, 401],
      [{ authorization: "Basic abc" }, 401],
      [{ authorization: `Bearer ${await token(["viewer"])}` }, 403],
    ] as const) {
      const { req, response, res } = fakeHttp(headers);
      await route.handle(req, response, match);
      expect(res.status).toBe(status);
      expect(JSON.parse(res.body)).toHaveProperty("errorCode");
    }
    expect(served).toBe(0);
    for (const headers of [{ authorization: `Bearer ${KEY}` }, { "x-api-key": KEY }] as Record<string, string>[]) {
      const { req, response } = fakeHttp(headers);
      await route.handle(req, response, match);
    }
    expect(served).toBe(2);
  });
});

describe("SDK keys", () => {
  it("are matched by hash, and only with the lotty_sdk_ prefix", () => {
    const keys = new SdkKeySet();
    expect(keys.isLoaded()).toBe(false);
    keys.replace([{ id: "k1", keyHash: hashSdkKey(KEY), environment: "prod" }]);
    expect(keys.verify(KEY)).toMatchObject({ id: "k1", environment: "prod" });
    expect(keys.verify(`${KEY}x`)).toBeUndefined();
    expect(keys.verify(hashSdkKey(KEY))).toBeUndefined();
  });

  it("are followed: loaded at start, reloaded on a key change, restored from the snapshot when the source is down", async () => {
    const bus = createMemoryBus();
    const cache = createMemoryCache();
    let live: Array<{ id: string; keyHash: string; environment: string }> | Error = [{ id: "k1", keyHash: hashSdkKey(KEY), environment: "prod" }];
    const follow = (set: SdkKeySet) =>
      followSdkKeys({
        set,
        load: async () => {
          if (live instanceof Error) throw live;
          return live;
        },
        bus,
        subjects: ["lotty.experiment.changed"],
        isKeyChange: (msg) => msg.data.length > 0,
        cache,
        logger,
        intervalMs: 60_000,
      });
    const first = new SdkKeySet();
    const f1 = follow(first);
    await f1.start();
    expect(first.verify(KEY)?.id).toBe("k1");

    live = [];
    await bus.publish("lotty.experiment.changed", toBinary(ExperimentChangedSchema, create(ExperimentChangedSchema, { change: "sdk_key" })));
    await expect.poll(() => first.verify(KEY)).toBeUndefined();

    // A replica starting while the source is down serves the last list it stored.
    live = [{ id: "k2", keyHash: hashSdkKey(KEY), environment: "prod" }];
    await bus.publish("lotty.experiment.changed", toBinary(ExperimentChangedSchema, create(ExperimentChangedSchema, { change: "sdk_key" })));
    await expect.poll(() => first.verify(KEY)?.id).toBe("k2");
    live = new Error("experiment service down");
    const second = new SdkKeySet();
    const f2 = follow(second);
    await f2.start();
    expect(second.verify(KEY)?.id).toBe("k2");
    await Promise.all([f1.close(), f2.close()]);
    await bus.close();
    await cache.close();
  });
});
