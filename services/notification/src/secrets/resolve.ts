import type { ChannelRecord } from "../store/channels.js";
import type { SecretBox } from "./secret-box.js";

export class MissingSecretError extends Error {}

/** The channel's plain secret, from its sealed copy or the environment variable it names. */
export function channelSecret(box: SecretBox, channel: ChannelRecord, env: NodeJS.ProcessEnv = process.env): string {
  if (channel.secretEnv) {
    const value = env[channel.secretEnv];
    if (!value) throw new MissingSecretError(`environment variable ${channel.secretEnv} is not set`);
    return value;
  }
  if (channel.secretBox) return box.open(channel.secretBox, channel.id);
  return "";
}
