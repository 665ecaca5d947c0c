// Requests breaking the protovalidate annotations of their message, across every service of a
// running embedded Lotty (auth on): each is refused with INVALID_ARGUMENT naming the field and the
// rule's reason (the annotation's wording, so the refusal is the interceptor's), and the data the
// fuzz seed created is the same afterwards.
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { allServices } from "@lotty/embedded/services";
import { bearerInterceptor, type Role } from "@lotty/platform/auth";
import { startEmbedded, type EmbeddedLotty } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { fieldViolationsOf, type FieldViolation } from "@lotty/platform/rpc";
import { ValueType } from "@lotty/proto/common";
import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService } from "@lotty/proto/experiment";
import { GuardrailService } from "@lotty/proto/guardrail";
import { MetricsService } from "@lotty/proto/metrics";
import { NotificationService } from "@lotty/proto/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSeed, type Clients, type SeedCorpus } from "../fuzz/seed.js";

describe("annotated request rules on a running Lotty", () => {
  let lotty: EmbeddedLotty;
  let c: Clients;
  let seed: SeedCorpus;

  beforeAll(async () => {
    lotty = await startEmbedded(allServices, { port: 0, host: "127.0.0.1", logger: createLogger("validation", { level: "silent" }) });
    const baseUrl = `http://127.0.0.1:${lotty.port}`;
    const as = async (sub: string, role: Role): Promise<Transport> => {
      const token = await lotty.auth!.mintToken({ sub, roles: [role] });
      return createGrpcTransport({ baseUrl, interceptors: [bearerInterceptor(() => token)] });
    };
    const admin = await as("alice", "admin");
    c = {
      experiment: createClient(ExperimentService, admin),
      approver: createClient(ExperimentService, await as("bob", "approver")),
      decision: createClient(DecisionService, admin),
      metrics: createClient(MetricsService, admin),
      guardrail: createClient(GuardrailService, admin),
      notification: createClient(NotificationService, admin),
    };
    seed = await createSeed(c);
  }, 120_000);

  afterAll(async () => {
    await lotty?.close();
  }, 30_000);

  /** Everything the seed made plus how many of each kind exist: what a refused request must not change. */
  async function stored(): Promise<string> {
    const counts = [
      (await c.experiment.listFlags({ includeArchived: true })).flags.length,
      (await c.experiment.listExperiments({})).experiments.length,
      (await c.metrics.listEventTypes({ includeArchived: true })).eventTypes.length,
      (await c.metrics.listMetrics({ includeArchived: true })).metrics.length,
      (await c.guardrail.listGuardrails({})).guardrails.length,
      (await c.notification.listChannels({})).channels.length,
      (await c.notification.listRules({})).rules.length,
    ];
    return `${await seed.snapshot()}\n${counts.join(",")}`;
  }

  it("refuses each with INVALID_ARGUMENT naming the field, and changes nothing", async () => {
    const experiment = (await c.experiment.listExperiments({ flagKey: "fuzz.seed-banner" })).experiments[0];
    const guardrail = (await c.guardrail.listGuardrails({ experimentId: experiment.id })).guardrails[0];
    const rule = (await c.notification.listRules({})).rules[0];
    const before = await stored();

    const cases: Array<[string, () => Promise<unknown>, FieldViolation[]]> = [
      [
        "CreateFlag with a malformed key and no value type",
        () => c.experiment.createFlag({ key: "Fuzz Flag", valueType: ValueType.UNSPECIFIED }),
        [
          { field: "key", description: "does not match regex pattern `^[a-z][a-z0-9_.-]*$`" },
          { field: "value_type", description: "value is required" },
        ],
      ],
      [
        "UpdateFlag with an over-long description",
        () => c.experiment.updateFlag({ key: "fuzz.seed-banner", description: "d".repeat(4097), updateMask: { paths: ["description"] } }),
        [{ field: "description", description: "must be at most 4096 characters" }],
      ],
      [
        "UpdateExperiment with a malformed variant",
        () => c.experiment.updateExperiment({
          experiment: { id: experiment.id, variants: [{ name: "Control!", weight: -1 }] },
          updateMask: { paths: ["variants"] },
          expectedVersion: experiment.version,
        }),
        [
          { field: "experiment.variants[0].name", description: "does not match regex pattern `^[a-z][a-z0-9_-]*$`" },
          { field: "experiment.variants[0].weight", description: "must be greater than or equal to 0" },
        ],
      ],
      [
        "PauseExperiment without the version last seen",
        () => c.experiment.pauseExperiment({ id: experiment.id, reason: "validation test" }),
        [{ field: "expected_version", description: "value is required" }],
      ],
      [
        "TrackEvents over the batch bound",
        () => c.metrics.trackEvents({ events: Array.from({ length: 1001 }, (_, i) => ({ eventId: `v-${i}`, type: "fuzz_purchase", subjectId: "u" })) }),
        [{ field: "events", description: "must contain no more than 1000 item(s)" }],
      ],
      [
        "UpdateMetric with a cap percentile over 100",
        () => c.metrics.updateMetric({ metric: { key: "fuzz_conversion", capPercentile: 150 }, updateMask: { paths: ["cap_percentile"] } }),
        [{ field: "metric.cap_percentile", description: "must be greater than or equal to 0 and less than 100" }],
      ],
      [
        "SetExperimentMetrics with an attachment without a role",
        () => c.metrics.setExperimentMetrics({ experimentId: experiment.id, attachments: [{ metricKey: "fuzz_conversion" }] }),
        [{ field: "attachments[0].role", description: "value is required" }],
      ],
      [
        "UpdateGuardrail with a window over 90 days",
        () => c.guardrail.updateGuardrail({ guardrail: { id: guardrail.id, window: durationFromMs(91 * 86_400_000) }, updateMask: { paths: ["window"] } }),
        [{ field: "guardrail.window", description: "must be greater than 0s and less than or equal to 7776000s" }],
      ],
      [
        "UpdateRule with a negative rate limit",
        () => c.notification.updateRule({ rule: { id: rule.id, rateLimit: -5 }, updateMask: { paths: ["rate_limit"] } }),
        [{ field: "rule.rate_limit", description: "must be greater than or equal to 0" }],
      ],
      ["CreateChannel without a channel", () => c.notification.createChannel({}), [{ field: "channel", description: "value is required" }]],
      [
        "GetAssignments with an over-long subject",
        () => c.decision.getAssignments({ subjectId: "s".repeat(257) }),
        [{ field: "subject_id", description: "must be at most 256 characters" }],
      ],
    ];
    for (const [what, call, violations] of cases) {
      const err = await call().then(
        () => new Error(`${what}: accepted`),
        (e: unknown) => ConnectError.from(e),
      );
      expect(err instanceof ConnectError ? err.code : err, what).toBe(Code.InvalidArgument);
      expect(fieldViolationsOf(err), what).toEqual(violations);
    }
    expect(await stored()).toBe(before);
  }, 60_000);
});
