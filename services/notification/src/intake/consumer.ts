import { fromBinary } from "@bufbuild/protobuf";
import type { Bus, Subscription } from "@lotty/platform/bus";
import { Subjects } from "@lotty/platform/events";
import type { Logger } from "@lotty/platform/log";
import {
  AutopilotSteppedSchema,
  DataQualityWarningSchema,
  ExperimentStatusChangedSchema,
  GuardrailTriggeredSchema,
  ReviewRequestedSchema,
  SloBurnSchema,
} from "@lotty/proto/events";
import type { ConsumedEvent } from "../domain/events.js";

export const DURABLE_NAME = "notification";

const decoders: Record<string, (data: Uint8Array) => ConsumedEvent> = {
  [Subjects.experimentStatusChanged]: (d) => ({ kind: "status", event: fromBinary(ExperimentStatusChangedSchema, d) }),
  [Subjects.reviewRequested]: (d) => ({ kind: "review", event: fromBinary(ReviewRequestedSchema, d) }),
  [Subjects.guardrailTriggered]: (d) => ({ kind: "guardrail", event: fromBinary(GuardrailTriggeredSchema, d) }),
  [Subjects.autopilotStepped]: (d) => ({ kind: "autopilot", event: fromBinary(AutopilotSteppedSchema, d) }),
  [Subjects.sloBurn]: (d) => ({ kind: "slo", event: fromBinary(SloBurnSchema, d) }),
  [Subjects.dataQuality]: (d) => ({ kind: "dataQuality", event: fromBinary(DataQualityWarningSchema, d) }),
};

/**
 * One durable consumer over every subject we notify on. The handler acks only after the intake
 * transaction committed; a failure naks and the bus redelivers (the processed-event mark makes
 * that safe).
 */
export function consumeEvents(deps: {
  bus: Bus;
  logger: Logger;
  retryDelayMs?: number;
  intake: (subject: string, event: ConsumedEvent) => Promise<void>;
}): Promise<Subscription> {
  return deps.bus.subscribe({
    subjects: Object.keys(decoders),
    durable: DURABLE_NAME,
    retryDelayMs: deps.retryDelayMs,
    handler: async (msg) => {
      const decoder = decoders[msg.subject];
      let event: ConsumedEvent;
      try {
        if (!decoder) throw new Error("unexpected subject");
        event = decoder(msg.data);
      } catch (err) {
        // Redelivering a payload that cannot decode would loop forever.
        deps.logger.warn({ subject: msg.subject, err }, "undecodable event dropped");
        return;
      }
      try {
        await deps.intake(msg.subject, event);
      } catch (err) {
        deps.logger.error({ subject: msg.subject, err }, "event intake failed; will be redelivered");
        throw err;
      }
    },
  });
}
