export interface DeliveryOptions {
  /** Longest sleep between outbox polls (inserts wake the worker sooner). */
  pollIntervalMs: number;
  /** Attempts before a delivery is dead-lettered. */
  maxAttempts: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Cap on a receiver's Retry-After. */
  maxRetryAfterMs: number;
  /** Per-attempt deadline. */
  sendTimeoutMs: number;
  /** Sends in flight at once. */
  concurrency: number;
  /** Sends in flight per channel, so one slow channel cannot take every slot. */
  perChannelConcurrency: number;
  /** Redelivery delay of an event whose intake failed. */
  eventRetryDelayMs: number;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  pollIntervalMs: 1000,
  maxAttempts: 6,
  baseBackoffMs: 2000,
  maxBackoffMs: 5 * 60_000,
  maxRetryAfterMs: 60 * 60_000,
  sendTimeoutMs: 10_000,
  concurrency: 16,
  perChannelConcurrency: 4,
  eventRetryDelayMs: 1000,
};
