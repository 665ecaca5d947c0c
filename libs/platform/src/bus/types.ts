/** A message as a consumer sees it. */
export interface BusMessage {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  /** How many times this message was delivered before (0 on first delivery). */
  redeliveries: number;
}

export interface PublishOptions {
  headers?: Record<string, string>;
  /** Deduplication id: a second publish with the same id inside the dedup window is dropped. */
  msgId?: string;
}

export interface SubscribeOptions {
  /** Subject filters, NATS wildcards allowed (`lotty.experiment.*`, `lotty.>`). */
  subjects: string[];
  /**
   * Durable consumer name. Replicas sharing a name split the work (each message handled by one),
   * and the position survives restarts. Without it, the subscription is ephemeral and every
   * subscriber sees every message published after it started (used for ruleset refresh fan-out).
   */
  durable?: string;
  /** Resolves = ack. Throws = nak: redelivered later (at-least-once). */
  handler: (msg: BusMessage) => Promise<void>;
  /** Redelivery delay after a failed handler, default 1000 ms. */
  retryDelayMs?: number;
  /** Deliveries before a message is dropped (and counted), default unlimited. */
  maxDeliver?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

export interface Bus {
  publish(subject: string, data: Uint8Array, opts?: PublishOptions): Promise<void>;
  subscribe(opts: SubscribeOptions): Promise<Subscription>;
  /** True while connected (the in-process bus always is). */
  isConnected(): boolean;
  close(): Promise<void>;
}
