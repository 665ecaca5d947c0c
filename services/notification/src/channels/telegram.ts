import type { Message } from "../domain/notice.js";
import { postJson } from "./http.js";
import type { Channel } from "./types.js";

// Telegram rejects messages over 4096 characters.
const TEXT_MAX = 4096;

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** sendMessage body, HTML parse mode (needs the least escaping of Telegram's modes). */
export function renderTelegram(message: Message, chatId: string) {
  const lines = message.lines.map((l) => (message.lines.length > 1 ? `• ${escapeHtml(l)}` : escapeHtml(l)));
  const text = `<b>${escapeHtml(message.title)}</b>\n${lines.join("\n")}`;
  return { chat_id: chatId, text: text.length <= TEXT_MAX ? text : `${text.slice(0, TEXT_MAX - 1)}…`, parse_mode: "HTML" };
}

export const telegramChannel: Channel<"telegram"> = {
  kind: "telegram",
  send(config, botToken, message, ctx) {
    const base = config.apiBaseUrl.replace(/\/+$/, "");
    return postJson(ctx, `${base}/bot${botToken}/sendMessage`, JSON.stringify(renderTelegram(message, config.chatId)));
  },
};
