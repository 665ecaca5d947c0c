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
    const timeout = AbortSignal.timeout(deps.timeoutMs);
    const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
    return sendThrough(channel.config, secret, message, {
      signal,
      timeoutMs: deps.timeoutMs,
      fetch: deps.fetch,
      now: deps.clock(),
      deliveryId,
    });
  };
}
