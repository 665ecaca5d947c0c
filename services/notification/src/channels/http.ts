import { parseRetryAfter, type AttemptOutcome } from "../domain/backoff.js";
import type { SendContext } from "./types.js";

const MAX_ERROR_BODY = 200;

/**
 * POSTs JSON and classifies the answer: 2xx delivered; 429 (with Retry-After), 408 and 5xx retried;
 * other 4xx permanent; network errors and timeouts retried. Error texts never include the URL,
 * which is a secret for Slack and Telegram.
 */
export async function postJson(ctx: SendContext, url: string, body: string, headers: Record<string, string> = {}): Promise<AttemptOutcome> {
  let res: Response;
  try {
    res = await ctx.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      signal: ctx.signal,
    });
  } catch (err) {
    return { kind: "retry", error: describeFetchError(err, ctx) };
  }
  if (res.ok) {
    await res.body?.cancel();
    return { kind: "delivered" };
  }
  const text = (await res.text().catch(() => "")).slice(0, MAX_ERROR_BODY);
  const error = `HTTP ${res.status}${text ? `: ${text}` : ""}`;
  if (res.status === 429) return { kind: "retry", error, retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), ctx.now) };
  if (res.status === 408 || res.status >= 500) return { kind: "retry", error };
  return { kind: "permanent", error };
}

function describeFetchError(err: unknown, ctx: SendContext): string {
  if (ctx.signal.aborted) return `timed out after ${ctx.timeoutMs} ms`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const code = cause && "code" in cause ? String(cause.code) : undefined;
  return `network error${code ? `: ${code}` : cause ? `: ${cause.message}` : ""}`;
}
