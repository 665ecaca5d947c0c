import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db } from "@lotty/platform/db";
import { failedPrecondition, invalidArgument, notFound } from "@lotty/platform/rpc";
import { DeliverySchema, DeliveryStatus, type Delivery, type NotificationService } from "@lotty/proto/notification";
import { buildMessage } from "../domain/message.js";
import { getDelivery, listDeliveries, requeue, type DeliveryRecord, type DeliveryStatusName } from "../store/deliveries.js";
import { decodeCursor, pageSize, paginate } from "../store/pagination.js";

type DeliveryRpcs = Pick<ServiceImpl<typeof NotificationService>, "listDeliveries" | "retryDelivery">;

const STATUS: Record<DeliveryStatusName, DeliveryStatus> = {
  pending: DeliveryStatus.PENDING,
  delivered: DeliveryStatus.DELIVERED,
  dead_letter: DeliveryStatus.DEAD_LETTER,
  suppressed: DeliveryStatus.SUPPRESSED,
};
const STATUS_NAME = new Map(Object.entries(STATUS).map(([name, s]) => [s, name as DeliveryStatusName]));

export function deliveryToProto(d: DeliveryRecord): Delivery {
  return create(DeliverySchema, {
    id: d.id,
    ruleId: d.ruleId,
    channelId: d.channelId,
    eventIds: d.eventIds,
    status: STATUS[d.status],
    attempts: d.attempts,
    lastError: d.lastError,
    createTime: timestampFromDate(d.createTime),
    nextAttemptTime: d.status === "pending" && d.nextAttemptAt ? timestampFromDate(d.nextAttemptAt) : undefined,
    deliverTime: d.deliverTime ? timestampFromDate(d.deliverTime) : undefined,
    title: buildMessage(d.notices).title,
  });
}

export function deliveryHandlers(deps: { db: Db; clock: () => Date; onQueued: (due: Date) => void }): DeliveryRpcs {
  return {
    async listDeliveries(req) {
      const status = req.status === DeliveryStatus.UNSPECIFIED ? undefined : STATUS_NAME.get(req.status);
      if (req.status !== DeliveryStatus.UNSPECIFIED && !status) throw invalidArgument("status", "unknown delivery status");
      const limit = pageSize(req.pageSize);
      const rows = await listDeliveries(
        deps.db,
        { ruleId: req.ruleId || undefined, channelId: req.channelId || undefined, eventId: req.eventId || undefined, status },
        limit + 1,
        decodeCursor(req.pageToken),
      );
      const page = paginate(rows, limit, (r) => ({ time: r.createTime, id: r.id }));
      return { deliveries: page.items.map(deliveryToProto), nextPageToken: page.nextPageToken };
    },

    async retryDelivery(req) {
      if (!req.id) throw invalidArgument("id", "required");
      const now = deps.clock();
      const requeued = await requeue(deps.db, req.id, now);
      if (!requeued) {
        const existing = await getDelivery(deps.db, req.id);
        if (!existing) throw notFound("delivery", req.id);
        throw failedPrecondition(`delivery "${req.id}" is ${existing.status}; only dead letters can be retried`);
      }
      deps.onQueued(now);
      return { delivery: deliveryToProto(requeued) };
    },
  };
}
