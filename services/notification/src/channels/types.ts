import type { AttemptOutcome } from "../domain/backoff.js";
import type { Message } from "../domain/notice.js";

/** Non-secret configuration per kind, as stored and as returned by the API. */
export type ChannelConfig =
  | { kind: "webhook"; url: string }
  | { kind: "slack" }
  | { kind: "telegram"; chatId: string; apiBaseUrl: string }
  | { kind: "email"; smtpHost: string; smtpPort: number; username: string; from: string; to: string[]; useTls: boolean };

export type ChannelKindName = ChannelConfig["kind"];

export interface SendContext {
  /** Aborts the send when the per-delivery timeout passes or the service closes. */
  signal: AbortSignal;
  timeoutMs: number;
  fetch: typeof fetch;
  now: Date;
  deliveryId: string;
}

/**
 * A channel is a renderer plus a sender. `secret` is the channel's one secret, already decrypted
 * (webhook signing secret, Slack webhook URL, bot token, SMTP password). Never put it in the
 * outcome's error text.
 */
export interface Channel<K extends ChannelKindName = ChannelKindName> {
  readonly kind: K;
  send(config: Extract<ChannelConfig, { kind: K }>, secret: string, message: Message, ctx: SendContext): Promise<AttemptOutcome>;
}
