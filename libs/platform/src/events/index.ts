import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { Bus, Subscription } from "../bus/types.js";
import { injectTraceHeaders, withExtractedContext } from "../telemetry/tracing.js";

/** NATS subjects of the events in proto/lotty/events/v1 (stream LOTTY covers lotty.>). */
export const Subjects = {
  flagChanged: "lotty.flag.changed",
  experimentChanged: "lotty.experiment.changed",
  experimentStatusChanged: "lotty.experiment.status_changed",
  reviewRequested: "lotty.experiment.review_requested",
  /** One message per decision: what older decision services publish (consumers still read it). */
  exposure: "lotty.decision.exposure",
  /** ExposureBatch: what the decision service publishes. */
  exposureBatches: "lotty.decision.exposures",
  trackedEvents: "lotty.metrics.events",
  dataQuality: "lotty.metrics.data_quality",
  guardrailTriggered: "lotty.guardrail.triggered",
  autopilotStepped: "lotty.autopilot.step",
  sloBurn: "lotty.slo.burn",
} as const;

export type Subject = (typeof Subjects)[keyof typeof Subjects];

/**
 * Publishes a protobuf event; msgId (the event id) lets JetStream drop a republish. The active
 * trace context travels in the message headers, so a consumer's work joins the producer's trace.
 */
export async function publishEvent<Desc extends DescMessage>(
  bus: Bus,
  subject: Subject,
  schema: Desc,
  message: MessageShape<Desc>,
  msgId?: string,
): Promise<void> {
  await bus.publish(subject, toBinary(schema, message), { msgId, headers: injectTraceHeaders({}) });
}

/** Subscribes with typed decoding; a message that does not decode is acked and dropped. */
export function subscribeEvents<Desc extends DescMessage>(
  bus: Bus,
  opts: {
    subjects: Subject[];
    schema: Desc;
    durable?: string;
    retryDelayMs?: number;
    handler: (event: MessageShape<Desc>, subject: string) => Promise<void>;
    onUndecodable?: (subject: string, err: unknown) => void;
    /** Replaces `fromBinary(schema, data)` where a subject's volume calls for a faster decoder with the same result. */
    decode?: (data: Uint8Array) => MessageShape<Desc>;
  },
): Promise<Subscription> {
  return bus.subscribe({
    subjects: opts.subjects,
    durable: opts.durable,
    retryDelayMs: opts.retryDelayMs,
    handler: async (msg) => {
      let event: MessageShape<Desc>;
      try {
        event = opts.decode ? opts.decode(msg.data) : fromBinary(opts.schema, msg.data);
      } catch (err) {
        // Redelivering a payload that cannot decode would loop forever.
        opts.onUndecodable?.(msg.subject, err);
        return;
      }
      await withExtractedContext(msg.headers, () => opts.handler(event, msg.subject));
    },
  });
}
