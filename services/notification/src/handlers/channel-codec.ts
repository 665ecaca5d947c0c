import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { INPUT_LIMITS, lengthViolations, type FieldViolation } from "@lotty/platform/rpc";
import {
  ChannelKind,
  ChannelSchema,
  EmailConfigSchema,
  SlackConfigSchema,
  TelegramConfigSchema,
  WebhookConfigSchema,
  type Channel,
} from "@lotty/proto/notification";
import type { ChannelConfig, ChannelKindName } from "../channels/index.js";
import type { ChannelRecord } from "../store/channels.js";

export const DEFAULT_TELEGRAM_API = "https://api.telegram.org";

/** The secret half of a channel's config as sent by a caller: a value, an env name, or neither. */
export interface SecretInput {
  value: string;
  env: string;
}

export interface ParsedChannel {
  name: string;
  config: ChannelConfig;
  secret: SecretInput;
}

const KIND_OF_CASE: Record<ChannelKindName, ChannelKind> = {
  webhook: ChannelKind.WEBHOOK,
  slack: ChannelKind.SLACK,
  telegram: ChannelKind.TELEGRAM,
  email: ChannelKind.EMAIL,
};

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function httpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * Checks a secret pair. `required` = the channel cannot work without one; `keep` = an update may
 * leave both empty to keep the stored secret.
 */
function checkSecret(v: FieldViolation[], field: string, s: SecretInput, required: boolean, validate?: (s: string) => string | undefined): void {
  if (s.value && s.env) v.push({ field, description: `set either ${field} or ${field}_env, not both` });
  else if (s.env && !ENV_NAME.test(s.env)) v.push({ field: `${field}_env`, description: "must be an environment variable name" });
  else if (required && !s.value && !s.env) v.push({ field, description: `required (or ${field}_env)` });
  else if (s.value && validate) {
    const why = validate(s.value);
    if (why) v.push({ field, description: why });
  }
}

/** Violations of a (trimmed) channel name: required and bounded; on create and on update. */
export function channelNameViolations(name: string): FieldViolation[] {
  if (!name) return [{ field: "channel.name", description: "required" }];
  return lengthViolations([["channel.name", name, INPUT_LIMITS.nameLength]]);
}

/**
 * Parses and validates a channel from the API. `secretOptional`: on update with an unchanged kind
 * the stored secret is kept when none is sent.
 */
export function parseChannel(c: Channel | undefined, secretOptional: boolean): { parsed?: ParsedChannel; violations: FieldViolation[] } {
  const v: FieldViolation[] = [];
  if (!c) return { violations: [{ field: "channel", description: "required" }] };
  const name = c.name.trim();
  v.push(...channelNameViolations(name));
  if (c.config.case === undefined) {
    v.push({ field: "channel.config", description: "one of webhook, slack, telegram or email is required" });
    return { violations: v };
  }
  if (c.kind !== ChannelKind.UNSPECIFIED && c.kind !== KIND_OF_CASE[c.config.case]) {
    v.push({ field: "channel.kind", description: `does not match the ${c.config.case} config` });
  }
  const need = !secretOptional;
  let config: ChannelConfig;
  let secret: SecretInput;
  switch (c.config.case) {
    case "webhook": {
      const w = c.config.value;
      if (!httpUrl(w.url)) v.push({ field: "channel.webhook.url", description: "must be an http(s) URL" });
      secret = { value: w.secret, env: w.secretEnv };
      checkSecret(v, "channel.webhook.secret", secret, need);
      config = { kind: "webhook", url: w.url };
      break;
    }
    case "slack": {
      const s = c.config.value;
      secret = { value: s.webhookUrl, env: s.webhookUrlEnv };
      checkSecret(v, "channel.slack.webhook_url", secret, need, (u) => (httpUrl(u) ? undefined : "must be an http(s) URL"));
      config = { kind: "slack" };
      break;
    }
    case "telegram": {
      const t = c.config.value;
      secret = { value: t.botToken, env: t.botTokenEnv };
      checkSecret(v, "channel.telegram.bot_token", secret, need, (tok) => (/^[^\s/]+$/.test(tok) ? undefined : "must not contain spaces or slashes"));
      if (!t.chatId.trim()) v.push({ field: "channel.telegram.chat_id", description: "required" });
      const base = t.apiBaseUrl || DEFAULT_TELEGRAM_API;
      if (!httpUrl(base)) v.push({ field: "channel.telegram.api_base_url", description: "must be an http(s) URL" });
      config = { kind: "telegram", chatId: t.chatId.trim(), apiBaseUrl: base };
      break;
    }
    case "email": {
      const e = c.config.value;
      if (!e.smtpHost.trim()) v.push({ field: "channel.email.smtp_host", description: "required" });
      const port = e.smtpPort || (e.useTls ? 465 : 587);
      if (port < 1 || port > 65535) v.push({ field: "channel.email.smtp_port", description: "must be 1-65535" });
      if (!e.from.includes("@")) v.push({ field: "channel.email.from", description: "must be an email address" });
      if (e.to.length === 0) v.push({ field: "channel.email.to", description: "at least one recipient is required" });
      e.to.forEach((addr, i) => {
        if (!addr.includes("@")) v.push({ field: `channel.email.to[${i}]`, description: "must be an email address" });
      });
      secret = { value: e.password, env: e.passwordEnv };
      checkSecret(v, "channel.email.password", secret, false);
      config = { kind: "email", smtpHost: e.smtpHost.trim(), smtpPort: port, username: e.username, from: e.from, to: [...e.to], useTls: e.useTls };
      break;
    }
  }
  return v.length > 0 ? { violations: v } : { parsed: { name, config, secret }, violations: v };
}

/** The API view of a stored channel: secrets never leave, only the env names they come from. */
export function channelToProto(r: ChannelRecord): Channel {
  const env = r.secretEnv ?? "";
  const c = r.config;
  const base = { id: r.id, name: r.name, kind: KIND_OF_CASE[c.kind], createTime: timestampFromDate(r.createTime), updateTime: timestampFromDate(r.updateTime) };
  switch (c.kind) {
    case "webhook":
      return create(ChannelSchema, { ...base, config: { case: "webhook", value: create(WebhookConfigSchema, { url: c.url, secretEnv: env }) } });
    case "slack":
      return create(ChannelSchema, { ...base, config: { case: "slack", value: create(SlackConfigSchema, { webhookUrlEnv: env }) } });
    case "telegram":
      return create(ChannelSchema, {
        ...base,
        config: { case: "telegram", value: create(TelegramConfigSchema, { chatId: c.chatId, apiBaseUrl: c.apiBaseUrl, botTokenEnv: env }) },
      });
    case "email":
      return create(ChannelSchema, {
        ...base,
        config: {
          case: "email",
          value: create(EmailConfigSchema, {
            smtpHost: c.smtpHost, smtpPort: c.smtpPort, username: c.username, from: c.from, to: c.to, useTls: c.useTls, passwordEnv: env,
          }),
        },
      });
  }
}
