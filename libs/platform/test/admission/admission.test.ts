import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService } from "@lotty/proto/experiment";
import { Health, HealthCheckResponse_ServingStatus } from "@lotty/proto/grpc-health";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { classifyHttp, classifyRpc, createAdmission } from "../../src/admission/index.js";
import type { HttpRoute, NodeRequest, NodeResponse } from "../../src/rpc/index.js";

/** A promise the test resolves: holds handlers "in flight" for as long as it wants. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

describe("classification", () => {
  it("puts Decide, DecideBatch and OFREP in the decide class, health and reflection out of admission", () => {
    expect(classifyRpc(DecisionService.typeName, "Decide")).toBe("decide");
    expect(classifyRpc(DecisionService.typeName, "DecideBatch")).toBe("decide");
    expect(classifyRpc(DecisionService.typeName, "GetAssignments")).toBe("admin");
    expect(classifyRpc(ExperimentService.typeName, "ListFlags")).toBe("admin");
    expect(classifyRpc(Health.typeName, "Check")).toBe("exempt");
    expect(classifyRpc("grpc.reflection.v1.ServerReflection", "ServerReflectionInfo")).toBe("exempt");
    expect(classifyHttp("/ofrep/v1/evaluate/flags/banner")).toBe("decide");
    expect(classifyHttp("/admin/export")).toBe("admin");
  });
});

describe("admission interceptor", () => {
  it("rejects decides beyond their budget with RESOURCE_EXHAUSTED while admin and health calls pass", async () => {
    const registry = new Registry();
    const admission = createAdmission({ decideMaxInFlight: 2, adminMaxInFlight: 2, targetDelayMs: 20, intervalMs: 100 }, { registry });
    const hold = gate();
    const transport = createRouterTransport(
      (router) => {
        router.service(DecisionService, {
          async decide(req) {
            await hold.opened;
            return { flagKey: req.flagKey };
          },
        });
        router.service(ExperimentService, { listFlags: () => ({ flags: [] }) });
        router.service(Health, { check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }) });
      },
      { router: { interceptors: [admission.interceptor] } },
    );
    const decision = createClient(DecisionService, transport);
    const held = [decision.decide({ flagKey: "a", subjectId: "s" }), decision.decide({ flagKey: "b", subjectId: "s" })];
    const rejected = await decision.decide({ flagKey: "c", subjectId: "s" }).catch((e: unknown) => ConnectError.from(e));
    expect(rejected).toBeInstanceOf(ConnectError);
    expect((rejected as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((rejected as ConnectError).rawMessage).toMatch(/overloaded: 2 decide calls in flight/);
    expect(await codeOf(createClient(ExperimentService, transport).listFlags({}))).toBe("ok");
    expect(await codeOf(createClient(Health, transport).check({}))).toBe("ok");

    hold.open();
    expect((await Promise.all(held)).map((r) => r.flagKey)).toEqual(["a", "b"]);
    // Released: the budget is free again (in a new event-loop turn, so the time this one has
    // been running does not count as queueing).
    await new Promise((r) => setImmediate(r));
    expect(await codeOf(decision.decide({ flagKey: "d", subjectId: "s" }))).toBe("ok");
    const text = await registry.metrics();
    expect(text).toMatch(/lotty_admission_rejected_total\{class="decide"\} 1/);
    expect(text).toMatch(/lotty_admission_in_flight\{class="decide"\} 0/);
    expect(text).toMatch(/lotty_admission_limit\{class="admin"\} 2/);
    admission.close();
  });

  it("answers OFREP beyond the decide budget with 429 and Retry-After, and frees the slot after the route", async () => {
    const admission = createAdmission({ decideMaxInFlight: 1, adminMaxInFlight: 1, targetDelayMs: 20, intervalMs: 100 });
    const hold = gate();
    const route: HttpRoute = { method: "POST", path: /^\/ofrep\//, handle: () => hold.opened };
    const [guarded] = admission.guardHttp([route]);
    const req = { url: "/ofrep/v1/evaluate/flags/banner?x=1" } as NodeRequest;
    const sent: { status?: number; headers?: Record<string, string>; body?: string } = {};
    const res = {
      writeHead(status: number, headers: Record<string, string>) {
        Object.assign(sent, { status, headers });
      },
      end(body: string) {
        sent.body = body;
      },
    } as unknown as NodeResponse;
    const match = /x/.exec("x")!;
    const first = guarded.handle(req, res, match);
    await guarded.handle(req, res, match);
    expect(sent.status).toBe(429);
    expect(sent.headers?.["retry-after"]).toBe("1");
    expect(JSON.parse(sent.body ?? "{}")).toMatchObject({ errorCode: "GENERAL" });
    hold.open();
    await first;
    expect(admission.controller.snapshot("decide").inFlight).toBe(0);
  });

  it("refuses an interval too short to measure a standing queue", () => {
    expect(() => createAdmission({ decideMaxInFlight: 1, adminMaxInFlight: 1, targetDelayMs: 20, intervalMs: 1 })).toThrow(/at least 50 ms/);
  });
});
