import type { BusMessage } from "./types.js";

/**
 * Called when a message is given up on after `maxDeliver` failed deliveries, so the caller can
 * count it (metric, log). `durable` is undefined for ephemeral subscriptions.
 */
export type OnDrop = (msg: BusMessage, error: unknown, durable: string | undefined) => void;

export const DEFAULT_RETRY_DELAY_MS = 1000;
/** NATS JetStream's default duplicate window. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60_000;

/** True when the delivery that just failed was the last one `maxDeliver` allows. */
export function isLastDelivery(deliveriesSoFar: number, maxDeliver: number | undefined): boolean {
  return maxDeliver !== undefined && maxDeliver > 0 && deliveriesSoFar >= maxDeliver;
}
