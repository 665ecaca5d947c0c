import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Subjects } from "@lotty/platform/events";
import { ExperimentStatusChangedSchema } from "@lotty/proto/events";
import { DeliveryStatus } from "@lotty/proto/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { guardrailEvent, openHarness, publish, publishGuardrail, type Harness } from "./support/harness.js";
import { startReceiver, waitFor, type Receiver } from "./support/receiver.js";

let h: Harness;
let hook: Receiver;

beforeAll(async () => {
  h = await openHarness();
  hook = await startReceiver();
}, 30_000);

afterAll(async () => {
  await h.close();
  await hook.close();
});

const bodies = (experimentId: string) =>
  hook.requests.map((r) => JSON.parse(r.body) as { title: string; text: string; events: { experiment_id: string; event_id: string }[] })
    .filter((b) => b.events[0].experiment_id === experimentId);

async function rule(experimentId: string, opts: { groupMs?: number; rateLimit?: number; rateWindowMs?: number; dedupMs?: number; template?: string } = {}) {
  const { channel } = await h.client.createChannel({
    channel: { name: `hook ${experimentId}`, config: { case: "webhook", value: { url: hook.url, secret: "s3cret-signing" } } },
  });
  const { rule } = await h.client.createRule({
    rule: {
      name: experimentId,
      experimentId,
      channelIds: [channel!.id],
      groupWindow: durationFromMs(opts.groupMs ?? 0),
      rateLimit: opts.rateLimit ?? 0,
      rateWindow: opts.rateWindowMs === undefined ? undefined : durationFromMs(opts.rateWindowMs),
      dedupWindow: durationFromMs(opts.dedupMs ?? 0),
      template: opts.template ?? "",
      enabled: true,
    },
  });
  return rule!.id;
}

describe("grouping", () => {
  it("turns ten guardrail firings of one sweep into one message listing all ten", async () => {
    const ruleId = await rule("exp-group", { groupMs: 3000 }); // wide enough for ten intakes on a busy machine
    const events = [];
    for (let i = 0; i < 10; i++) {
      events.push(await publishGuardrail(h.bus, { experimentId: "exp-group", sweepId: "sweep-42", metricKey: `metric_${i}`, experimentName: "" }));
    }
    await waitFor(() => bodies("exp-group").length >= 1, 10_000, "grouped message");
    await new Promise((r) => setTimeout(r, 300));
    const msgs = bodies("exp-group");
    expect(msgs).toHaveLength(1);
    expect(msgs[0].title).toBe("10 guardrail firings (sweep sweep-42)");
    expect(msgs[0].events.map((e) => e.event_id)).toEqual(events.map((e) => e.eventId));
    expect(msgs[0].text.split("\n")).toEqual(
      events.map((_, i) => `Experiment exp-group: metric_${i} (variant b) = 0.12, threshold 0.05; action rollback (applied)`),
    );
    const { deliveries } = await h.client.listDeliveries({ ruleId });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0].eventIds).toHaveLength(10);
    // Filterable by any of the grouped events.
    expect((await h.client.listDeliveries({ eventId: events[7].eventId! })).deliveries.map((d) => d.id)).toEqual([deliveries[0].id]);
  });

  it("keeps different sweeps apart", async () => {
    await rule("exp-sweeps", { groupMs: 300 });
    await publishGuardrail(h.bus, { experimentId: "exp-sweeps", sweepId: "a" });
    await publishGuardrail(h.bus, { experimentId: "exp-sweeps", sweepId: "b" });
    await waitFor(() => bodies("exp-sweeps").length >= 2, 10_000, "two messages");
    expect(bodies("exp-sweeps").map((b) => b.events.length)).toEqual([1, 1]);
  });
});

describe("rate limiting and dedup", () => {
  it("records messages over the rate limit as SUPPRESSED", async () => {
    const ruleId = await rule("exp-rate", { rateLimit: 2, rateWindowMs: 60_000 });
    for (let i = 0; i < 5; i++) await publishGuardrail(h.bus, { experimentId: "exp-rate", metricKey: `m${i}` });
    await waitFor(async () => (await h.client.listDeliveries({ ruleId })).deliveries.length === 5, 10_000, "five deliveries");
    await waitFor(() => bodies("exp-rate").length >= 2, 10_000, "two sends");
    const suppressed = (await h.client.listDeliveries({ ruleId, status: DeliveryStatus.SUPPRESSED })).deliveries;
    expect(suppressed).toHaveLength(3);
    expect(suppressed[0].lastError).toMatch(/^rate limit: 2 message\(s\) per 60 s/);
    await new Promise((r) => setTimeout(r, 200));
    expect(bodies("exp-rate")).toHaveLength(2);
  });

  it("sends the same event kind, experiment and metric once per dedup window", async () => {
    const ruleId = await rule("exp-dedup", { dedupMs: 60_000 });
    await publishGuardrail(h.bus, { experimentId: "exp-dedup" });
    await publishGuardrail(h.bus, { experimentId: "exp-dedup" });
    await publishGuardrail(h.bus, { experimentId: "exp-dedup", metricKey: "latency_p99" });
    await waitFor(async () => (await h.client.listDeliveries({ ruleId })).deliveries.length === 3, 10_000, "three deliveries");
    await waitFor(() => bodies("exp-dedup").length >= 2, 10_000, "two sends");
    const suppressed = (await h.client.listDeliveries({ ruleId, status: DeliveryStatus.SUPPRESSED })).deliveries;
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0].lastError).toContain("duplicate");
    expect(bodies("exp-dedup").map((b) => b.title).sort()).toEqual([
      "Guardrail fired on Checkout button: error_rate",
      "Guardrail fired on Checkout button: latency_p99",
    ]);
  });

  it("applies the rule's template", async () => {
    await rule("exp-tpl", { template: "{{experiment}}: {{metric}} at {{value}} (limit {{threshold}}) -> {{action}}" });
    await publishGuardrail(h.bus, { experimentId: "exp-tpl" });
    await waitFor(() => bodies("exp-tpl").length >= 1, 10_000, "templated message");
    expect(bodies("exp-tpl")[0].text).toBe("Checkout button: error_rate at 0.12 (limit 0.05) -> rollback");
  });
});

describe("event dedup", () => {
  it("a redelivered event is sent once, even across a restart", async () => {
    const ruleId = await rule("exp-restart");
    const event = guardrailEvent({ experimentId: "exp-restart" });
    await publishGuardrail(h.bus, event);
    await waitFor(() => bodies("exp-restart").length >= 1, 10_000, "first send");

    await h.restart();
    // The same event again (no msgId, so the bus itself does not drop it): a redelivery.
    await publishGuardrail(h.bus, event);
    await publish(h.bus, Subjects.experimentStatusChanged, ExperimentStatusChangedSchema, {
      eventId: "status-after-restart", experimentId: "exp-restart", experimentName: "Checkout button", fromStatus: "running", toStatus: "paused",
    });
    // The status event proves the restarted consumer is live and past the duplicate.
    await waitFor(() => bodies("exp-restart").length >= 2, 10_000, "status message");
    await new Promise((r) => setTimeout(r, 200));
    const msgs = bodies("exp-restart");
    expect(msgs.map((m) => m.title)).toEqual(["Guardrail fired on Checkout button: error_rate", "Experiment Checkout button is now paused"]);
    expect((await h.client.listDeliveries({ ruleId, eventId: event.eventId! })).deliveries).toHaveLength(1);
  });
});
