import { create } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { DecideBatchRequestSchema, DecideRequestSchema, DecisionService } from "@lotty/proto/decision";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { createRpcServer } from "../../src/rpc/server.js";
import { Gate, Probe, probeFile, probeRoutes } from "./probe.js";
import { fieldViolationsOf, invalidArgument, invalidArguments, truncateText } from "../../src/rpc/errors.js";
import { adapterLimits, boundedErrorsInterceptor, DEFAULT_READ_MAX_BYTES, findNulString, lengthViolations, MAX_ERROR_MESSAGE_CHARS, nulFreeStringsInterceptor } from "../../src/rpc/limits.js";

const unexpected = (): never => {
  throw new Error("expected the call to fail");
};

describe("request size", () => {
  it("defaults to 4 MiB and refuses nonsense", () => {
    expect(adapterLimits()).toEqual({ readMaxBytes: DEFAULT_READ_MAX_BYTES });
    expect(adapterLimits({ readMaxBytes: 65_536 }).readMaxBytes).toBe(65_536);
    expect(() => adapterLimits({ readMaxBytes: 10 })).toThrow(/at least 1024/);
  });

  it("a server refuses a larger request with RESOURCE_EXHAUSTED and keeps serving", async () => {
    const server = createRpcServer({ name: "t", routes: probeRoutes(new Gate()), files: [probeFile], limits: { readMaxBytes: 4096 } });
    const { port } = await server.listen(0, "127.0.0.1");
    try {
      const probe = createClient(Probe, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
      const err = await probe.check({ service: "x".repeat(10_000) }).then(unexpected, (e: unknown) => ConnectError.from(e));
      expect(err.code).toBe(Code.ResourceExhausted);
      await expect(probe.check({ service: "" })).resolves.toBeDefined();
    } finally {
      await server.close({ graceMs: 1000 });
    }
  });
});

describe("BadRequest details", () => {
  it("invalidArgument carries a google.rpc.BadRequest naming the field, and the message too", () => {
    const err = invalidArgument("flag_keys", "at most 200 flags, got 201");
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe('field "flag_keys": at most 200 flags, got 201');
    expect(fieldViolationsOf(err)).toEqual([{ field: "flag_keys", description: "at most 200 flags, got 201" }]);
  });

  it("bounds violations: at most 20, each cut, and says how many were left out", () => {
    const many = Array.from({ length: 25 }, (_, i) => ({ field: `events[${i}].type`, description: "x".repeat(5000) }));
    const err = invalidArguments(many);
    const shown = fieldViolationsOf(err);
    expect(shown).toHaveLength(20);
    expect(shown[0].description.length).toBeLessThan(400);
    expect(err.rawMessage).toMatch(/; and 5 more$/);
  });

  it("reaches a client through a real transport", async () => {
    const transport = createRouterTransport(({ service }) =>
      service(DecisionService, {
        decide: () => {
          throw invalidArgument("subject_id", "is required");
        },
      }),
    );
    const err = await createClient(DecisionService, transport).decide({}).then(unexpected, (e: unknown) => ConnectError.from(e));
    expect(fieldViolationsOf(err)).toEqual([{ field: "subject_id", description: "is required" }]);
  });
});

describe("bounded errors", () => {
  it("truncates without leaving half a surrogate pair (which would hang the gRPC trailer encoder)", () => {
    const text = "𝕏".repeat(10);
    const cut = truncateText(text, 5);
    expect(cut.startsWith("𝕏𝕏\uFFFD…")).toBe(true);
    expect(cut).toContain("(20 characters)");
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });

  it("cuts long messages and drops protocol headers a peer's error brought along", async () => {
    const transport = createRouterTransport(
      ({ service }) =>
        service(DecisionService, {
          decide: (req) => {
            throw new ConnectError(`flag "${req.flagKey}" not found`, Code.NotFound, { "content-type": "application/grpc", "grpc-status": "5", "x-request-id": "r1" });
          },
        }),
      { router: { interceptors: [boundedErrorsInterceptor()] } },
    );
    const err = await createClient(DecisionService, transport)
      .decide({ subjectId: "u", flagKey: "k".repeat(100_000) })
      .then(unexpected, (e: unknown) => ConnectError.from(e));
    expect(err.code).toBe(Code.NotFound);
    expect(err.rawMessage.length).toBeLessThan(MAX_ERROR_MESSAGE_CHARS + 50);
    expect(err.metadata.get("x-request-id")).toBe("r1");
  });
});

describe("NUL characters", () => {
  it("finds them in nested strings, lists and map keys and values, with the field path", () => {
    const value = (s: string) => create(ValueSchema, { kind: { case: "stringValue", value: s } });
    expect(findNulString(reflect(DecideRequestSchema, create(DecideRequestSchema, { subjectId: "ok", attributes: { plan: value("pro") } })))).toBeUndefined();
    expect(findNulString(reflect(DecideRequestSchema, create(DecideRequestSchema, { subjectId: "a\u0000" })))).toBe("subject_id");
    expect(findNulString(reflect(DecideRequestSchema, create(DecideRequestSchema, { attributes: { plan: value("p\u0000") } })))).toBe('attributes["plan"].string_value');
    expect(findNulString(reflect(DecideRequestSchema, create(DecideRequestSchema, { attributes: { "k\u0000": value("v") } })))).toBe('attributes["k\\u0000"]');
    expect(findNulString(reflect(DecideBatchRequestSchema, create(DecideBatchRequestSchema, { flagKeys: ["a", "b\u0000"] })))).toBe("flag_keys[1]");
  });

  it("are refused with INVALID_ARGUMENT before the handler runs", async () => {
    let called = false;
    const transport = createRouterTransport(
      ({ service }) =>
        service(DecisionService, {
          decide: () => {
            called = true;
            return {};
          },
        }),
      { router: { interceptors: [nulFreeStringsInterceptor()] } },
    );
    const err = await createClient(DecisionService, transport)
      .decide({ subjectId: "u\u0000", flagKey: "f" })
      .then(unexpected, (e: unknown) => ConnectError.from(e));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(fieldViolationsOf(err)[0].field).toBe("subject_id");
    expect(called).toBe(false);
  });
});

describe("lengthViolations", () => {
  it("names each field over its bound", () => {
    expect(lengthViolations([["name", "abc", 3], ["description", "abcd", 3]])).toEqual([{ field: "description", description: "must be at most 3 characters, got 4" }]);
  });
});
