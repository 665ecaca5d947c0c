import type { AttemptOutcome } from "../domain/backoff.js";
import type { Message } from "../domain/notice.js";
import { sendThrough } from "../channels/index.js";
import { channelSecret, MissingSecretError } from "../secrets/resolve.js";
import type { SecretBox } from "../secrets/secret-box.js";
import type { ChannelRecord } from "../store/channels.js";

export type Send = (channel: ChannelRecord, message: Message, deliveryId: string, stop?: AbortSignal) => Promise<AttemptOutcome>;

/** One attempt through one channel, bounded by the per-attempt timeout. */
export function createSend(deps: { box: SecretBox; fetch: typeof fetch; clock: () => Date; timeoutMs: number }): Send {
  return async (channel, message, deliveryId, stop) => {
    let secret: string;
    try {
      secret = channelSecret(deps.box, channel);
    } catch (err) {
      // A missing variable or a secret sealed with another key will not fix itself by retrying.
      return { kind: "permanent", error: err instanceof MissingSecretError ? err.message : "stored secret cannot be decrypted (wrong key?)" };
    }
    // A plain timer, not AbortSignal.any(AbortSignal.timeout()): on Node 20 the timeout signal
    // inside a composite can be garbage-collected and never fire, leaving a hung send.
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), deps.timeoutMs);
    const onStop = () => ctrl.abort();
    if (stop?.aborted) ctrl.abort();
    stop?.addEventListener("abort", onStop, { once: true });
    try {
      return await sendThrough(channel.config, secret, message, {
        signal: ctrl.signal,
        timeoutMs: deps.timeoutMs,
        fetch: deps.fetch,
        now: deps.clock(),
        deliveryId,
      });
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener("abort", onStop);
    }
  };
}
