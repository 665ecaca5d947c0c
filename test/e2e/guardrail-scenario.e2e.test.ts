// The original system's guardrail scenario across the five services as separate processes on the
// real Postgres, Redis and NATS: submit, approve, start, decide, send events, sweep → paused (or
// rolled back), with a trigger record and exactly one signed webhook call and one Slack message.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { ValueType } from "@lotty/proto/common";
import { DecisionReason, DecisionService } from "@lotty/proto/decision";
import { ExperimentService, ExperimentStatus, OutcomeKind } from "@lotty/proto/experiment";
import { GuardrailAction, GuardrailService } from "@lotty/proto/guardrail";
import { MetricDirection, MetricsService, MetricType } from "@lotty/proto/metrics";
import { NotificationService } from "@lotty/proto/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLottyStack, type LottyStack } from "../support/lotty-stack.js";
import { repoRoot } from "../support/process.js";
import { startHttpReceiver, verifyLottySignature, type HttpReceiver } from "../support/receivers.js";
import { decideAll, eventFor, pollUntil, submitApproveStart, trackAll, waitForExposures } from "../support/scenario.js";

const run = promisify(execFile);
const SUBJECTS = 200;
const THRESHOLD = 0.2;
const GROUP_WINDOW_MS = 300;

describe("guardrail scenario: five services as separate processes", () => {
  let stack: LottyStack;
  let owner: Client<typeof ExperimentService>;
  let approver: Client<typeof ExperimentService>;
  let decision: Client<typeof DecisionService>;
  let metrics: Client<typeof MetricsService>;
  let guardrails: Client<typeof GuardrailService>;
  let notifications: Client<typeof NotificationService>;
  const receivers: HttpReceiver[] = [];

  beforeAll(async () => {
    stack = await startLottyStack();
    owner = stack.client(ExperimentService, "experiment", "alice");
    approver = stack.client(ExperimentService, "experiment", "bob");
    decision = stack.client(DecisionService, "decision");
    metrics = stack.client(MetricsService, "metrics", "alice");
    guardrails = stack.client(GuardrailService, "guardrail", "alice");
    notifications = stack.client(NotificationService, "notification", "alice");
    await metrics.createEventType({ eventType: { key: "error", description: "a request failed" } });
    await metrics.createMetric({
      metric: { key: "error_rate", name: "Error rate", type: MetricType.CONVERSION, eventType: "error", direction: MetricDirection.LOWER_IS_BETTER },
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  }, 30_000);

  /** A webhook and a Slack channel at fresh local receivers, and a rule sending this experiment's guardrail firings to both. */
  async function notifyTo(experimentId: string) {
    const [hook, slack] = await Promise.all([startHttpReceiver(), startHttpReceiver()]);
    receivers.push(hook, slack);
    const secret = `whsec-${experimentId}`;
    const { channel: hookChannel } = await notifications.createChannel({
      channel: { name: `hook-${experimentId}`, config: { case: "webhook", value: { url: `${hook.url}/lotty`, secret } } },
    });
    const { channel: slackChannel } = await notifications.createChannel({
      channel: { name: `slack-${experimentId}`, config: { case: "slack", value: { webhookUrl: `${slack.url}/services/T0/B0/x` } } },
    });
    await notifications.createRule({
      rule: {
        name: `guardrails of ${experimentId}`,
        experimentId,
        eventTypes: ["guardrail.triggered"],
        channelIds: [hookChannel!.id, slackChannel!.id],
        groupWindow: durationFromMs(GROUP_WINDOW_MS),
        enabled: true,
      },
    });
    return { hook, slack, secret };
  }

  /**
   * A running two-variant experiment on a new flag, decided for SUBJECTS subjects whose exposures
   * reached the metrics service, and error events making the treatment's error rate clearly high.
   */
  async function runningExperimentWithBadTreatment(name: string) {
    const flagKey = `checkout.${name}`;
    await owner.createFlag({ key: flagKey, valueType: ValueType.STRING, defaultValue: { kind: { case: "stringValue", value: "old" } } });
    const { experiment: draft } = await owner.createExperiment({
      experiment: {
        name,
        owner: "alice",
        flagKey,
        hypothesis: "the new checkout converts better",
        trafficAllocation: 100,
        primaryMetricKey: "error_rate",
        variants: [
          { name: "control", control: true, weight: 50, value: { kind: { case: "stringValue", value: "old" } } },
          { name: "treatment", control: false, weight: 50, value: { kind: { case: "stringValue", value: "new" } } },
        ],
      },
    });
    const since = new Date(Date.now() - 60_000);
    const started = await submitApproveStart(owner, approver, draft!);
    expect(started.status).toBe(ExperimentStatus.RUNNING);
    const notify = await notifyTo(started.id);

    // The decision service learns of the start through the ruleset; wait for it rather than sleep.
    await pollUntil("decision service serving the experiment", async () => {
      const d = await decision.decide({ subjectId: `${name}-probe`, flagKey });
      return d.reason === DecisionReason.EXPERIMENT_ASSIGNED ? d : undefined;
    });
    const subjects = Array.from({ length: SUBJECTS }, (_, i) => `${name}-user-${i}`);
    const decided = await decideAll(decision, flagKey, subjects);
    expect(decided.filter((d) => d.reason !== DecisionReason.EXPERIMENT_ASSIGNED || d.experimentId !== started.id).map((d) => `${DecisionReason[d.reason]} ${d.detail}`)).toEqual([]);
    const perVariant = { control: 0, treatment: 0 };
    for (const d of decided) perVariant[d.variant as keyof typeof perVariant]++;
    expect(perVariant.control).toBeGreaterThan(0);
    expect(perVariant.treatment).toBeGreaterThan(0);

    // Exposures travel decision → NATS → metrics; events attribute to them.
    await waitForExposures(metrics, started.id, "error_rate", since, perVariant);
    const events = decided.flatMap((d, i) => {
      const fails = d.variant === "treatment" ? i % 5 < 3 : i % 50 === 0; // ~60 % vs ~2 %
      return fails ? [eventFor(d, subjects[i], "error", `${name}-err-${i}`)] : [];
    });
    await trackAll(metrics, events);
    const value = await pollUntil("treatment error rate visible", async () => {
      const v = await waitForExposures(metrics, started.id, "error_rate", since, perVariant);
      return (v.variants.find((s) => s.variant === "treatment")?.mean ?? 0) > 0.4 ? v : undefined;
    });
    const treatmentRate = value.variants.find((s) => s.variant === "treatment")!.mean;
    return { experiment: started, flagKey, notify, treatmentRate };
  }

  async function createThresholdGuardrail(experimentId: string, action: GuardrailAction) {
    const { guardrail } = await guardrails.createGuardrail({
      guardrail: { experimentId, metricKey: "error_rate", window: durationFromMs(3_600_000), action, active: true, rule: { case: "threshold", value: { threshold: THRESHOLD } } },
    });
    return guardrail!;
  }

  /** Exactly one signed webhook call and one Slack message naming the experiment, metric, value, threshold and action. */
  async function expectOneNotification(notify: Awaited<ReturnType<typeof notifyTo>>, experiment: { id: string; name: string }, observed: number, action: string) {
    await Promise.all([notify.hook.waitFor(1, 15_000), notify.slack.waitFor(1, 15_000)]);
    // Anything that would duplicate it (a second group, a retry, a redelivery) comes within this.
    await new Promise((r) => setTimeout(r, GROUP_WINDOW_MS + 1_500));
    expect(notify.hook.requests).toHaveLength(1);
    expect(notify.slack.requests).toHaveLength(1);

    const [call] = notify.hook.requests;
    expect(call.method).toBe("POST");
    expect(verifyLottySignature(notify.secret, call.headers["x-lotty-signature"] as string, call.body)).toBe(true);
    expect(verifyLottySignature("wrong-secret", call.headers["x-lotty-signature"] as string, call.body)).toBe(false);
    const body = JSON.parse(call.body) as { type: string; events: Record<string, unknown>[] };
    expect(body.type).toBe("guardrail.triggered");
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({
      experiment_id: experiment.id,
      experiment_name: experiment.name,
      metric_key: "error_rate",
      variant: "treatment",
      value: observed,
      threshold: THRESHOLD,
      action,
    });

    const slack = JSON.parse(notify.slack.requests[0].body) as { text: string; blocks: { type: string; text?: { text: string } }[] };
    expect(slack.blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
    const shown = slack.blocks.map((b) => b.text?.text ?? "").join("\n");
    for (const part of [experiment.name, "error_rate", String(observed), `threshold ${THRESHOLD}`, `action ${action}`]) expect(shown).toContain(part);
  }

  it("a threshold guardrail with action pause, swept by the CLI the CronJob runs, pauses the experiment and notifies once", async () => {
    const { experiment, flagKey, notify, treatmentRate } = await runningExperimentWithBadTreatment("pause_case");
    const g = await createThresholdGuardrail(experiment.id, GuardrailAction.PAUSE);

    const cli = await run(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "--url", stack.urls.guardrail, "--json", "guardrails", "sweep"], {
      cwd: repoRoot,
      // The CronJob holds a token with the experimenter role (a Kubernetes secret in production).
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOTTY_TOKEN: await stack.token("guardrail-sweep", ["experimenter"]) },
      timeout: 30_000,
    }).catch((err: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`lotty guardrails sweep exited with ${err.code}:\n${err.stdout}\n${err.stderr}`);
    });
    const swept = JSON.parse(cli.stdout) as { experimentsChecked: number; triggers: { experimentId: string; action: string; applied: boolean }[] };
    expect(swept.experimentsChecked).toBe(1);
    expect(swept.triggers).toEqual([expect.objectContaining({ experimentId: experiment.id, action: "GUARDRAIL_ACTION_PAUSE", applied: true })]);

    const { experiment: after } = await owner.getExperiment({ id: experiment.id });
    expect(after!.status).toBe(ExperimentStatus.PAUSED);
    const { triggers } = await guardrails.listTriggers({ experimentId: experiment.id });
    expect(triggers).toHaveLength(1);
    expect(triggers[0]).toMatchObject({ guardrailId: g.id, metricKey: "error_rate", variant: "treatment", threshold: THRESHOLD, action: GuardrailAction.PAUSE, applied: true });
    expect(triggers[0].observedValue).toBeCloseTo(treatmentRate, 9);

    // A second sweep finds nothing running: no second firing, no second message.
    const again = await guardrails.sweep({});
    expect(again.triggers).toEqual([]);
    await expectOneNotification(notify, experiment, triggers[0].observedValue, "pause");

    // Paused traffic gets the flag default again once the decision service sees the change.
    await pollUntil("default served after pause", async () => {
      const d = await decision.decide({ subjectId: "pause_case-user-0", flagKey });
      return d.reason === DecisionReason.NO_ACTIVE_EXPERIMENT ? d : undefined;
    });
  }, 60_000);

  it("a threshold guardrail with action rollback completes the experiment with outcome rollback and a trigger record", async () => {
    const { experiment, notify, treatmentRate } = await runningExperimentWithBadTreatment("rollback_case");
    const g = await createThresholdGuardrail(experiment.id, GuardrailAction.ROLLBACK);

    const res = await guardrails.sweep({ experimentIds: [experiment.id] });
    expect(res.experimentsChecked).toBe(1);
    expect(res.guardrailsChecked).toBe(1);
    expect(res.triggers).toHaveLength(1);
    expect(res.triggers[0]).toMatchObject({ guardrailId: g.id, action: GuardrailAction.ROLLBACK, applied: true });

    const { experiment: after } = await owner.getExperiment({ id: experiment.id });
    expect(after!.status).toBe(ExperimentStatus.COMPLETED);
    expect(after!.outcome?.kind).toBe(OutcomeKind.ROLLBACK);
    expect(after!.outcome?.rationale).toContain(g.id);
    const { triggers } = await guardrails.listTriggers({ experimentId: experiment.id });
    expect(triggers.map((t) => t.id)).toEqual([res.triggers[0].id]);
    expect(triggers[0].observedValue).toBeCloseTo(treatmentRate, 9);
    await expectOneNotification(notify, experiment, triggers[0].observedValue, "rollback");
  }, 60_000);
});
