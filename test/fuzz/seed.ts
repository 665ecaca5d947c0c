// A small dataset created before the fuzz run: the valid requests that made it (and valid
// reads/decides/events about it) seed the mutations; the valid requests that would change it
// are only ever sent poisoned, and a snapshot shows the data is the same afterwards.
import { create, toJsonString, type DescMessage, type DescMethod, type DescService, type Message } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { ValueType } from "@lotty/proto/common";
import { DecisionService } from "@lotty/proto/decision";
import { ExperimentService } from "@lotty/proto/experiment";
import { GuardrailAction, GuardrailService } from "@lotty/proto/guardrail";
import { MetricDirection, MetricRole, MetricsService, MetricType } from "@lotty/proto/metrics";
import { NotificationService } from "@lotty/proto/notification";

export type Clients = {
  experiment: Client<typeof ExperimentService>;
  approver: Client<typeof ExperimentService>;
  decision: Client<typeof DecisionService>;
  metrics: Client<typeof MetricsService>;
  guardrail: Client<typeof GuardrailService>;
  notification: Client<typeof NotificationService>;
};

export const methodKey = (service: DescService, method: DescMethod) => `${service.typeName}/${method.name}`;

export interface SeedCorpus {
  /** Valid requests per RPC whose mutations may succeed without touching the seed data. */
  valid: Map<string, Message[]>;
  /** Valid requests per RPC that would change the seed data: sent only made invalid. */
  guarded: Map<string, Message[]>;
  /** The seed entities as JSON, read back through Get RPCs. */
  snapshot(): Promise<string>;
}

const str = (value: string) => create(ValueSchema, { kind: { case: "stringValue", value } });

export async function createSeed(c: Clients): Promise<SeedCorpus> {
  const valid = new Map<string, Message[]>();
  const guarded = new Map<string, Message[]>();
  const add = (into: Map<string, Message[]>, service: DescService, method: DescMethod, init: object) => {
    const key = methodKey(service, method);
    into.set(key, [...(into.get(key) ?? []), create(method.input as DescMessage, init as never)]);
  };
  const E = ExperimentService.method;
  const D = DecisionService.method;
  const M = MetricsService.method;
  const G = GuardrailService.method;
  const N = NotificationService.method;

  const bool = await c.experiment.createFlag({ key: "fuzz.seed-bool", valueType: ValueType.BOOL, description: "seed", defaultValue: { kind: { case: "boolValue", value: false } } });
  const banner = await c.experiment.createFlag({ key: "fuzz.seed-banner", valueType: ValueType.STRING, description: "seed", defaultValue: str("none") });
  add(valid, ExperimentService, E.createFlag, { key: "fuzz.new-flag", valueType: ValueType.NUMBER, defaultValue: { kind: { case: "numberValue", value: 1 } } });
  add(valid, ExperimentService, E.getFlag, { key: banner.flag!.key });
  add(valid, ExperimentService, E.listFlags, { pageSize: 10 });

  await c.metrics.createEventType({ eventType: { key: "fuzz_purchase", description: "seed purchase" } });
  await c.metrics.createMetric({ metric: { key: "fuzz_conversion", name: "Seed conversion", type: MetricType.CONVERSION, eventType: "fuzz_purchase", direction: MetricDirection.HIGHER_IS_BETTER } });
  add(valid, MetricsService, M.createEventType, { eventType: { key: "fuzz_new_event", description: "new" } });
  add(valid, MetricsService, M.createMetric, { metric: { key: "fuzz_new_metric", name: "New", type: MetricType.MEAN, eventType: "fuzz_purchase", direction: MetricDirection.LOWER_IS_BETTER } });
  add(valid, MetricsService, M.getEventType, { key: "fuzz_purchase" });
  add(valid, MetricsService, M.getMetric, { key: "fuzz_conversion" });
  add(valid, MetricsService, M.listMetrics, { pageSize: 5 });
  add(valid, MetricsService, M.listEventTypes, { pageSize: 5 });

  const experimentInit = {
    name: "fuzz seed experiment",
    owner: "alice",
    flagKey: banner.flag!.key,
    trafficAllocation: 100,
    targeting: 'country == "US"',
    primaryMetricKey: "fuzz_conversion",
    variants: [
      { name: "control", control: true, weight: 1, value: str("none") },
      { name: "treatment", weight: 1, value: str("sale") },
    ],
  };
  const draft = (await c.experiment.createExperiment({ experiment: experimentInit })).experiment!;
  const submitted = (await c.experiment.submitExperiment({ id: draft.id, expectedVersion: draft.version })).experiment!;
  const approved = (await c.approver.approveExperiment({ id: draft.id, expectedVersion: submitted.version })).experiment!;
  const exp = (await c.experiment.startExperiment({ id: draft.id, expectedVersion: approved.version })).experiment!;
  const id = exp.id;
  add(valid, ExperimentService, E.createExperiment, { experiment: { ...experimentInit, name: "fuzz second", flagKey: bool.flag!.key, variants: [
    { name: "off", control: true, weight: 1, value: { kind: { case: "boolValue", value: false } } },
    { name: "on", weight: 1, value: { kind: { case: "boolValue", value: true } } },
  ] } });
  add(valid, ExperimentService, E.getExperiment, { id });
  add(valid, ExperimentService, E.listExperiments, { pageSize: 10 });
  add(valid, ExperimentService, E.listExperimentVersions, { id, pageSize: 10 });
  add(valid, ExperimentService, E.listAuditEvents, { experimentId: id, pageSize: 10 });

  const attributes = { country: str("US"), plan: str("pro") };
  const decided = await c.decision.decide({ subjectId: "fuzz-user-1", flagKey: banner.flag!.key, attributes });
  add(valid, DecisionService, D.decide, { subjectId: "fuzz-user-1", flagKey: banner.flag!.key, attributes });
  add(valid, DecisionService, D.decideBatch, { subjectId: "fuzz-user-2", attributes, flagKeys: [banner.flag!.key, bool.flag!.key] });
  add(valid, DecisionService, D.getAssignments, { subjectId: "fuzz-user-1" });
  const event = { eventId: "fuzz-evt-1", type: "fuzz_purchase", subjectId: "fuzz-user-1", decisionId: decided.decisionId, experimentId: id, timestamp: timestampFromMs(Date.now()), value: 1 };
  await c.metrics.trackEvents({ events: [event] });
  add(valid, MetricsService, M.trackEvents, { events: [{ ...event, eventId: "fuzz-evt-2" }] });
  await c.metrics.setExperimentMetrics({ experimentId: id, attachments: [{ metricKey: "fuzz_conversion", role: MetricRole.PRIMARY }] });
  const window = { start: timestampFromMs(Date.now() - 86_400_000), end: timestampFromMs(Date.now() + 60_000) };
  add(valid, MetricsService, M.getExperimentMetrics, { experimentId: id });
  add(valid, MetricsService, M.getReport, { experimentId: id, window, metricKeys: ["fuzz_conversion"], alpha: 0.05 });
  add(valid, MetricsService, M.getMetricValue, { experimentId: id, variant: "treatment", metricKey: "fuzz_conversion", window });
  add(valid, MetricsService, M.batchGetMetricValues, { requests: [{ experimentId: id, variant: "control", metricKey: "fuzz_conversion", window }] });

  const rail = (await c.guardrail.createGuardrail({
    // A sample no fuzz run reaches: a sweep the fuzzer turns real (dry_run flipped) cannot fire it.
    guardrail: { experimentId: id, metricKey: "fuzz_conversion", window: durationFromMs(3_600_000), action: GuardrailAction.PAUSE, active: true, rule: { case: "relative", value: { maxDegradation: 0.5, minSample: 1_000_000_000n } } },
  })).guardrail!;
  add(valid, GuardrailService, G.createGuardrail, { guardrail: { experimentId: id, metricKey: "fuzz_conversion", window: durationFromMs(600_000), action: GuardrailAction.ALERT_ONLY, active: false, rule: { case: "threshold", value: { threshold: 5 } } } });
  add(valid, GuardrailService, G.getGuardrail, { id: rail.id });
  add(valid, GuardrailService, G.listGuardrails, { experimentId: id });
  add(valid, GuardrailService, G.listTriggers, { experimentId: id, pageSize: 10 });
  add(valid, GuardrailService, G.getAutopilot, { experimentId: id });
  add(valid, GuardrailService, G.sweep, { dryRun: true, experimentIds: [id] });

  // A closed loopback port: TestChannel and deliveries fail fast, nothing leaves the machine.
  const channel = (await c.notification.createChannel({ channel: { name: "fuzz-hook", config: { case: "webhook", value: { url: "http://127.0.0.1:9/hook", secret: "fuzz-secret" } } } })).channel!;
  const rule = (await c.notification.createRule({ rule: { name: "fuzz rule", experimentId: id, eventTypes: ["guardrail.triggered"], channelIds: [channel.id], enabled: true } })).rule!;
  add(valid, NotificationService, N.createChannel, { channel: { name: "fuzz-new-hook", config: { case: "webhook", value: { url: "http://127.0.0.1:9/new", secret: "s" } } } });
  add(valid, NotificationService, N.createRule, { rule: { name: "fuzz new rule", flagKey: banner.flag!.key, eventTypes: ["experiment.status_changed"], channelIds: [channel.id], enabled: false } });
  add(valid, NotificationService, N.getChannel, { id: channel.id });
  add(valid, NotificationService, N.getRule, { id: rule.id });
  add(valid, NotificationService, N.listChannels, { pageSize: 10 });
  add(valid, NotificationService, N.listRules, { pageSize: 10 });
  add(valid, NotificationService, N.listDeliveries, { ruleId: rule.id, pageSize: 10 });
  add(valid, NotificationService, N.testChannel, { id: channel.id });

  // Valid changes to the seed data; the fuzzer only sends them poisoned.
  add(guarded, ExperimentService, E.updateFlag, { key: banner.flag!.key, description: "changed", updateMask: { paths: ["description"] }, expectedVersion: banner.flag!.version });
  add(guarded, ExperimentService, E.archiveFlag, { key: bool.flag!.key });
  add(guarded, ExperimentService, E.updateExperiment, { experiment: { id, description: "changed" }, updateMask: { paths: ["description"] }, expectedVersion: exp.version });
  add(guarded, ExperimentService, E.pauseExperiment, { id, expectedVersion: exp.version, reason: "fuzz" });
  add(guarded, ExperimentService, E.completeExperiment, { id, expectedVersion: exp.version, rationale: "fuzz" });
  add(guarded, ExperimentService, E.archiveExperiment, { id, expectedVersion: exp.version, reason: "fuzz" });
  add(guarded, ExperimentService, E.setRampStep, { id, expectedVersion: exp.version, step: 1, reason: "fuzz" });
  add(guarded, MetricsService, M.updateEventType, { eventType: { key: "fuzz_purchase", description: "changed" }, updateMask: { paths: ["description"] } });
  add(guarded, MetricsService, M.archiveEventType, { key: "fuzz_purchase" });
  add(guarded, MetricsService, M.updateMetric, { metric: { key: "fuzz_conversion", name: "Changed" }, updateMask: { paths: ["name"] } });
  add(guarded, MetricsService, M.archiveMetric, { key: "fuzz_conversion" });
  add(guarded, MetricsService, M.setExperimentMetrics, { experimentId: id, attachments: [{ metricKey: "fuzz_conversion", role: MetricRole.GUARDRAIL }] });
  add(guarded, GuardrailService, G.updateGuardrail, { guardrail: { id: rail.id, active: false }, updateMask: { paths: ["active"] } });
  add(guarded, GuardrailService, G.deleteGuardrail, { id: rail.id });
  add(guarded, NotificationService, N.updateChannel, { channel: { id: channel.id, name: "changed" }, updateMask: { paths: ["name"] } });
  add(guarded, NotificationService, N.deleteChannel, { id: channel.id });
  add(guarded, NotificationService, N.updateRule, { rule: { id: rule.id, enabled: false }, updateMask: { paths: ["enabled"] } });
  add(guarded, NotificationService, N.deleteRule, { id: rule.id });

  const snapshot = async () => {
    const parts: Array<[DescMessage, Message]> = [
      [E.getFlag.output, await c.experiment.getFlag({ key: bool.flag!.key })],
      [E.getFlag.output, await c.experiment.getFlag({ key: banner.flag!.key })],
      [E.getExperiment.output, await c.experiment.getExperiment({ id })],
      [M.getEventType.output, await c.metrics.getEventType({ key: "fuzz_purchase" })],
      [M.getMetric.output, await c.metrics.getMetric({ key: "fuzz_conversion" })],
      [M.getExperimentMetrics.output, await c.metrics.getExperimentMetrics({ experimentId: id })],
      [G.getGuardrail.output, await c.guardrail.getGuardrail({ id: rail.id })],
      [N.getChannel.output, await c.notification.getChannel({ id: channel.id })],
      [N.getRule.output, await c.notification.getRule({ id: rule.id })],
    ];
    return parts.map(([desc, msg]) => toJsonString(desc, msg as never)).join("\n");
  };
  return { valid, guarded, snapshot };
}
