import { createHmac } from "node:crypto";
import { LEVEL_NAMES, type Message } from "../domain/notice.js";
import { postJson } from "./http.js";
import type { Channel } from "./types.js";

/** The JSON body receivers get. */
export function renderWebhook(message: Message, deliveryId: string, now: Date) {
  return {
    id: deliveryId,
    type: message.eventType,
    title: message.title,
    severity: LEVEL_NAMES[message.level],
    text: message.lines.join("\n"),
    events: message.notices.map((n) => ({
      event_id: n.eventId,
      type: n.eventType,
      occur_time: n.occurTime,
      severity: LEVEL_NAMES[n.level],
      title: n.title,
      summary: n.summary,
      experiment_id: n.experimentId,
      experiment_name: n.experimentName,
      flag_key: n.flagKey,
      metric_key: n.metricKey,
      variant: n.variant,
      value: n.value ?? null,
      threshold: n.threshold ?? null,
      action: n.action,
      sweep_id: n.sweepId,
    })),
    sent_at: now.toISOString(),
  };
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`; receivers reject old t against replay. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

export const webhookChannel: Channel<"webhook"> = {
  kind: "webhook",
  send(config, secret, message, ctx) {
    const body = JSON.stringify(renderWebhook(message, ctx.deliveryId, ctx.now));
    return postJson(ctx, config.url, body, {
      "x-lotty-signature": signWebhook(secret, body, Math.floor(ctx.now.getTime() / 1000)),
      "x-lotty-delivery": ctx.deliveryId,
    });
  },
};
