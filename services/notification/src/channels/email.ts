import { createTransport } from "nodemailer";
import type { AttemptOutcome } from "../domain/backoff.js";
import { LEVEL_NAMES, type Message } from "../domain/notice.js";
import type { Channel } from "./types.js";

export function renderEmail(message: Message) {
  return {
    subject: `[Lotty ${LEVEL_NAMES[message.level]}] ${message.title}`,
    text: `${message.title}\n\n${message.lines.map((l) => (message.lines.length > 1 ? `- ${l}` : l)).join("\n")}\n`,
  };
}

/** SMTP reply codes 4xx are transient, 5xx permanent; connection trouble is retried. */
function classify(err: unknown, signal: AbortSignal, timeoutMs: number): AttemptOutcome {
  if (signal.aborted) return { kind: "retry", error: `timed out after ${timeoutMs} ms` };
  const e = err as { responseCode?: number; code?: string; message?: string };
  const error = `SMTP ${e.responseCode ?? e.code ?? "error"}${e.message ? `: ${e.message.slice(0, 200)}` : ""}`;
  return e.responseCode !== undefined && e.responseCode >= 500 ? { kind: "permanent", error } : { kind: "retry", error };
}

export const emailChannel: Channel<"email"> = {
  kind: "email",
  async send(config, password, message, ctx) {
    // Implicit TLS on 465; elsewhere use_tls demands STARTTLS, otherwise it is opportunistic.
    const transport = createTransport({
      host: config.smtpHost,
      port: config.smtpPort,
      secure: config.useTls && config.smtpPort === 465,
      requireTLS: config.useTls && config.smtpPort !== 465,
      auth: config.username ? { user: config.username, pass: password } : undefined,
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
    });
    // nodemailer takes no AbortSignal: closing the transport ends a hung send.
    const abort = () => transport.close();
    ctx.signal.addEventListener("abort", abort, { once: true });
    try {
      await transport.sendMail({ from: config.from, to: config.to, ...renderEmail(message), headers: { "X-Lotty-Delivery": ctx.deliveryId } });
      return { kind: "delivered" };
    } catch (err) {
      return classify(err, ctx.signal, ctx.timeoutMs);
    } finally {
      ctx.signal.removeEventListener("abort", abort);
      transport.close();
    }
  },
};
