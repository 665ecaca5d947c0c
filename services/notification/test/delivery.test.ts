import { createHmac, timingSafeEqual } from "node:crypto";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { DeliveryStatus } from "@lotty/proto/notification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openHarness, publishGuardrail, type Harness } from "./support/harness.js";
import { startReceiver, waitFor, type Receiver } from "./support/receiver.js";

const SECRET = "whsec-test-signing-secret";
let h: Harness;
const receivers: Receiver[] = [];

beforeAll(async () => {
  h = await openHarness({ maxAttempts: 3, sendTimeoutMs: 4000 });
}, 30_000);

afterAll(async () => {
  await h.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(reply?: Receiver["reply"]): Promise<Receiver> {
  const r = await startReceiver(reply);
  receivers.push(r);
  return r;
}

/** A webhook channel plus a rule scoped to one experiment, so tests in this file do not cross. */
async function webhookRule(url: string, experimentId: string, extra: { groupWindowMs?: number } = {}) {
  const { channel } = await h.client.createChannel({
    channel: { name: `hook ${experimentId}`, config: { case: "webhook", value: { url: `${url}/hook`, secret: SECRET } } },
  });
  const { rule } = await h.client.createRule({
    rule: { name: `rule ${experimentId}`, experimentId, channelIds: [channel!.id], groupWindow: durationFromMs(extra.groupWindowMs ?? 0), enabled: true },
  });
  return { channelId: channel!.id, ruleId: rule!.id };
}

function verifySignature(header: string, body: string): { t: number; ok: boolean } {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return { t: 0, ok: false };
  const expected = createHmac("sha256", SECRET).update(`${m[1]}.${body}`).digest();
  return { t: Number(m[1]), ok: timingSafeEqual(expected, Buffer.from(m[2], "hex")) };
}

describe("guardrail firing end to end", () => {
  it("sends exactly one signed webhook call and one Slack message with experiment, metric, value, threshold and action", async () => {
    const hook = await receiver();
    const slackRx = await receiver();
    const { channelId: hookId, ruleId } = await webhookRule(hook.url, "exp-e2e");
    const { channel: slack } = await h.client.createChannel({
      channel: { name: "slack", config: { case: "slack", value: { webhookUrl: `${slackRx.url}/services/T000/B000/XXXX` } } },
    });
    await h.client.updateRule({ rule: { id: ruleId, channelIds: [hookId, slack!.id] }, updateMask: { paths: ["channel_ids"] } });

    const before = Math.floor(Date.now() / 1000);
    const event = await publishGuardrail(h.bus, { experimentId: "exp-e2e", sweepId: "sweep-e2e" });
    await hook.waitForRequests(1);
    await slackRx.waitForRequests(1);

    const [call] = hook.requests;
    expect(call.method).toBe("POST");
    expect(call.path).toBe("/hook");
    expect(call.headers["content-type"]).toBe("application/json");
    const sig = verifySignature(String(call.headers["x-lotty-signature"]), call.body);
    expect(sig.ok).toBe(true);
    expect(sig.t).toBeGreaterThanOrEqual(before);
    expect(sig.t).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

    const { deliveries } = await h.client.listDeliveries({ ruleId, channelId: hookId });
    expect(deliveries).toHaveLength(1);
    expect(call.headers["x-lotty-delivery"]).toBe(deliveries[0].id);
    const summary =
      "Experiment Checkout button: error_rate (variant b) = 0.12, threshold 0.05; action rollback (applied)";
    expect(JSON.parse(call.body)).toEqual({
      id: deliveries[0].id,
      type: "guardrail.triggered",
      title: "Guardrail fired on Checkout button: error_rate",
      severity: "critical",
      text: summary,
      events: [
        {
          event_id: event.eventId,
          type: "guardrail.triggered",
          occur_time: "2026-11-23T10:00:00.000Z",
          severity: "critical",
          title: "Guardrail fired on Checkout button: error_rate",
          summary,
          experiment_id: "exp-e2e",
          experiment_name: "Checkout button",
          flag_key: "checkout",
          metric_key: "error_rate",
          variant: "b",
          value: 0.12,
          threshold: 0.05,
          action: "rollback",
          sweep_id: "sweep-e2e",
        },
      ],
      sent_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    expect(slackRx.requests[0].path).toBe("/services/T000/B000/XXXX");
    expect(JSON.parse(slackRx.requests[0].body)).toEqual({
      text: ":rotating_light: Guardrail fired on Checkout button: error_rate",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "Guardrail fired on Checkout button: error_rate" } },
        { type: "section", text: { type: "mrkdwn", text: summary } },
        { type: "context", elements: [{ type: "mrkdwn", text: ":rotating_light: guardrail.triggered · Lotty" }] },
      ],
    });

    // Nothing more arrives later (exactly one call each).
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.requests).toHaveLength(1);
    expect(slackRx.requests).toHaveLength(1);
    const delivered = await h.client.listDeliveries({ eventId: event.eventId, status: DeliveryStatus.DELIVERED });
    expect(delivered.deliveries.map((d) => d.channelId).sort()).toEqual([hookId, slack!.id].sort());
    expect(delivered.deliveries.every((d) => d.attempts === 1 && d.deliverTime)).toBe(true);
  });
});

describe("retries", () => {
  it("retries on 500 and succeeds on the third attempt", async () => {
    const hook = await receiver((_, i) => (i < 2 ? { status: 500, body: "boom" } : { status: 200 }));
    const { ruleId } = await webhookRule(hook.url, "exp-retry");
    const event = await publishGuardrail(h.bus, { experimentId: "exp-retry" });
    await hook.waitForRequests(3);
    // The same delivery each time, correctly signed each time.
    expect(new Set(hook.requests.map((r) => r.headers["x-lotty-delivery"])).size).toBe(1);
    expect(hook.requests.every((r) => verifySignature(String(r.headers["x-lotty-signature"]), r.body).ok)).toBe(true);
    await waitFor(async () => (await h.client.listDeliveries({ ruleId })).deliveries[0]?.status === DeliveryStatus.DELIVERED, 3000, "delivered");
    const [d] = (await h.client.listDeliveries({ eventId: event.eventId })).deliveries;
    expect(d.attempts).toBe(3);
    expect(d.lastError).toBe("");
  });

  it("dead-letters after maxAttempts, lists it, and RetryDelivery sends it again", async () => {
    let healthy = false;
    const hook = await receiver(() => (healthy ? { status: 200 } : { status: 503, body: "down" }));
    const { ruleId } = await webhookRule(hook.url, "exp-dead");
    await publishGuardrail(h.bus, { experimentId: "exp-dead" });
    await waitFor(async () => (await h.client.listDeliveries({ ruleId, status: DeliveryStatus.DEAD_LETTER })).deliveries.length === 1, 5000, "dead letter");
    const [dead] = (await h.client.listDeliveries({ ruleId, status: DeliveryStatus.DEAD_LETTER })).deliveries;
    expect(dead.attempts).toBe(3);
    expect(dead.lastError).toContain("HTTP 503: down");
    expect(hook.requests).toHaveLength(3);

    healthy = true;
    const { delivery } = await h.client.retryDelivery({ id: dead.id });
    expect(delivery!.status).toBe(DeliveryStatus.PENDING);
    await hook.waitForRequests(4);
    await waitFor(async () => (await h.client.listDeliveries({ ruleId })).deliveries[0].status === DeliveryStatus.DELIVERED, 3000, "delivered");

    const again = await h.client.retryDelivery({ id: dead.id }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConnectError);
    expect((again as ConnectError).code).toBe(Code.FailedPrecondition);
  });

  it("dead-letters a permanent 4xx at once", async () => {
    const hook = await receiver(() => ({ status: 410, body: "gone" }));
    const { ruleId } = await webhookRule(hook.url, "exp-gone");
    await publishGuardrail(h.bus, { experimentId: "exp-gone" });
    await waitFor(async () => (await h.client.listDeliveries({ ruleId, status: DeliveryStatus.DEAD_LETTER })).deliveries.length === 1, 3000, "dead letter");
    expect(hook.requests).toHaveLength(1);
  });

  it("honours 429 Retry-After instead of the short backoff", async () => {
    const hook = await receiver((_, i) => (i === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
    await webhookRule(hook.url, "exp-429");
    await publishGuardrail(h.bus, { experimentId: "exp-429" });
    const [first, second] = await hook.waitForRequests(2, 5000);
    // Backoff here is 20-80 ms; only Retry-After explains a gap of about a second.
    expect(second.at - first.at).toBeGreaterThanOrEqual(900);
  });

  it("a receiver that never answers does not delay another channel", async () => {
    const down = await receiver(() => "hang");
    const up = await receiver();
    const { channelId: downId } = await webhookRule(down.url, "exp-down");
    const { channel: upChannel } = await h.client.createChannel({
      channel: { name: "up", config: { case: "webhook", value: { url: up.url, secret: SECRET } } },
    });
    await h.client.createRule({ rule: { name: "up too", experimentId: "exp-down", channelIds: [upChannel!.id], groupWindow: durationFromMs(0), enabled: true } });

    await publishGuardrail(h.bus, { experimentId: "exp-down" });
    await down.waitForRequests(1);
    await up.waitForRequests(1);
    // A second event while the first send to the dead receiver is still hanging (timeout 4 s).
    await publishGuardrail(h.bus, { experimentId: "exp-down" });
    await up.waitForRequests(2);
    // Both reached the healthy channel while the first send to the dead one was still hanging.
    const [hanging] = (await h.client.listDeliveries({ channelId: downId })).deliveries;
    expect(hanging).toMatchObject({ status: DeliveryStatus.PENDING, attempts: 0 });
    await waitFor(async () => (await h.client.listDeliveries({ channelId: downId })).deliveries.some((d) => d.lastError.startsWith("timed out")), 10_000, "timeout recorded");
  }, 15_000);
});
