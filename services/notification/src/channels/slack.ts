import { Level, type Message } from "../domain/notice.js";
import { postJson } from "./http.js";
import type { Channel } from "./types.js";

// Slack caps section text at 3000 characters and header text at 150.
const SECTION_MAX = 3000;
const HEADER_MAX = 150;
const ICON: Record<Level, string> = { [Level.Info]: ":information_source:", [Level.Warning]: ":warning:", [Level.Critical]: ":rotating_light:" };

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Slack mrkdwn treats &, < and > as control characters. */
function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Incoming-webhook payload: `text` is the notification fallback, `blocks` the formatted body. */
export function renderSlack(message: Message) {
  const list = message.lines.map((l) => (message.lines.length > 1 ? `• ${escape(l)}` : escape(l))).join("\n");
  return {
    text: `${ICON[message.level]} ${escape(message.title)}`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: clip(message.title, HEADER_MAX) } },
      { type: "section", text: { type: "mrkdwn", text: clip(list, SECTION_MAX) } },
      { type: "context", elements: [{ type: "mrkdwn", text: `${ICON[message.level]} ${message.eventType} · Lotty` }] },
    ],
  };
}

/** The secret is the webhook URL itself. */
export const slackChannel: Channel<"slack"> = {
  kind: "slack",
  send: (_config, webhookUrl, message, ctx) => postJson(ctx, webhookUrl, JSON.stringify(renderSlack(message))),
};
