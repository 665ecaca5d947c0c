import type { AttemptOutcome } from "../domain/backoff.js";
import type { Message } from "../domain/notice.js";
import { emailChannel } from "./email.js";
import { slackChannel } from "./slack.js";
import { telegramChannel } from "./telegram.js";
import type { Channel, ChannelConfig, ChannelKindName, SendContext } from "./types.js";
import { webhookChannel } from "./webhook.js";

export type { Channel, ChannelConfig, ChannelKindName, SendContext } from "./types.js";

/** Adding a channel = one file with a `Channel` plus one line here. */
const CHANNELS: { [K in ChannelKindName]: Channel<K> } = {
  webhook: webhookChannel,
  slack: slackChannel,
  telegram: telegramChannel,
  email: emailChannel,
};

export function sendThrough(config: ChannelConfig, secret: string, message: Message, ctx: SendContext): Promise<AttemptOutcome> {
  const channel = CHANNELS[config.kind] as Channel;
  return channel.send(config, secret, message, ctx);
}
