import { describe, expect, it } from "vitest";
import { renderSlack } from "../src/channels/slack.js";
import { renderTelegram } from "../src/channels/telegram.js";
import { signWebhook } from "../src/channels/webhook.js";
import { backoffMs, nextStep, parseRetryAfter } from "../src/domain/backoff.js";
import { buildMessage, renderTemplate, unknownPlaceholders } from "../src/domain/message.js";
import { Level, type Notice } from "../src/domain/notice.js";
import { dedupKey, groupKey, isDuplicate, rateDecision, ruleMatches, type RuleSpec } from "../src/domain/rules.js";
import { createSecretBox } from "../src/secrets/secret-box.js";

const notice = (over: Partial<Notice> = {}): Notice => ({
  eventId: "e1", eventType: "guardrail.triggered", occurTime: "2026-01-01T00:00:00.000Z", level: Level.Critical,
  title: "T", summary: "S", experimentId: "x", experimentName: "X", flagKey: "f", owner: "o", metricKey: "m",
  variant: "b", value: 2, threshold: 1, action: "pause", sweepId: "s1", ...over,
});

const rule = (over: Partial<RuleSpec> = {}): RuleSpec => ({
  name: "r", experimentId: "", flagKey: "", owner: "", eventTypes: [], minLevel: 0, metricKeys: [], channelIds: ["c"],
  rateLimit: 0, rateWindowMs: 60_000, dedupWindowMs: 0, groupWindowMs: 0, template: "", enabled: true, ...over,
});

describe("rule matching", () => {
  it("empty filters match everything; each set filter must match", () => {
    expect(ruleMatches(rule(), notice())).toBe(true);
    expect(ruleMatches(rule({ enabled: false }), notice())).toBe(false);
    expect(ruleMatches(rule({ eventTypes: ["slo.burn"] }), notice())).toBe(false);
    expect(ruleMatches(rule({ experimentId: "y" }), notice())).toBe(false);
    expect(ruleMatches(rule({ flagKey: "f", owner: "o" }), notice())).toBe(true);
    expect(ruleMatches(rule({ minLevel: Level.Critical }), notice({ level: Level.Warning }))).toBe(false);
    expect(ruleMatches(rule({ minLevel: Level.Warning }), notice({ level: Level.Critical }))).toBe(true);
    expect(ruleMatches(rule({ metricKeys: ["m"] }), notice())).toBe(true);
    expect(ruleMatches(rule({ metricKeys: ["m"] }), notice({ metricKey: "" }))).toBe(false);
  });

  it("dedup and group keys", () => {
    expect(dedupKey(notice({ eventId: "a" }))).toBe(dedupKey(notice({ eventId: "b", sweepId: "other" })));
    expect(dedupKey(notice())).not.toBe(dedupKey(notice({ metricKey: "n" })));
    expect(dedupKey(notice({ eventType: "experiment.status_changed", action: "paused" }))).not.toBe(
      dedupKey(notice({ eventType: "experiment.status_changed", action: "running" })),
    );
    expect(groupKey(notice({ experimentId: "a" }))).toBe(groupKey(notice({ experimentId: "b" })));
    expect(groupKey(notice())).not.toBe(groupKey(notice({ sweepId: "s2" })));
  });

  it("rate and dedup decisions", () => {
    expect(rateDecision({ rateLimit: 0, rateWindowMs: 1 }, 99)).toEqual({ allowed: true });
    expect(rateDecision({ rateLimit: 2, rateWindowMs: 60_000 }, 1)).toEqual({ allowed: true });
    expect(rateDecision({ rateLimit: 2, rateWindowMs: 60_000 }, 2)).toMatchObject({ allowed: false });
    const now = new Date("2026-01-01T00:01:00Z");
    expect(isDuplicate({ dedupWindowMs: 0 }, new Date(now.getTime() - 1), now)).toBe(false);
    expect(isDuplicate({ dedupWindowMs: 60_000 }, undefined, now)).toBe(false);
    expect(isDuplicate({ dedupWindowMs: 60_000 }, new Date(now.getTime() - 59_999), now)).toBe(true);
    expect(isDuplicate({ dedupWindowMs: 60_000 }, new Date(now.getTime() - 60_000), now)).toBe(false);
  });
});

describe("backoff", () => {
  const opts = { baseMs: 1000, maxMs: 30_000, maxAttempts: 6, maxRetryAfterMs: 3_600_000 };

  it("grows exponentially with equal jitter and a cap", () => {
    expect(backoffMs(1, opts, () => 0)).toBe(500);
    expect(backoffMs(1, opts, () => 1)).toBe(1000);
    expect(backoffMs(4, opts, () => 0)).toBe(4000);
    expect(backoffMs(20, opts, () => 1)).toBe(30_000);
  });

  it("retries, honours Retry-After, and dead-letters", () => {
    expect(nextStep({ kind: "delivered" }, 1, opts)).toEqual({ status: "delivered" });
    expect(nextStep({ kind: "retry", error: "HTTP 500" }, 2, opts, () => 0)).toEqual({ status: "pending", delayMs: 1000, error: "HTTP 500" });
    expect(nextStep({ kind: "retry", error: "HTTP 429", retryAfterMs: 7000 }, 1, opts)).toMatchObject({ delayMs: 7000 });
    expect(nextStep({ kind: "retry", error: "HTTP 429", retryAfterMs: 1e9 }, 1, opts)).toMatchObject({ delayMs: 3_600_000 });
    expect(nextStep({ kind: "retry", error: "HTTP 500" }, 6, opts)).toEqual({ status: "dead_letter", error: "HTTP 500 (gave up after 6 attempts)" });
    expect(nextStep({ kind: "permanent", error: "HTTP 404" }, 1, opts)).toEqual({ status: "dead_letter", error: "HTTP 404" });
  });

  it("parses Retry-After seconds and dates", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("messages", () => {
  it("one notice keeps its title; several become a list", () => {
    expect(buildMessage([notice()]).title).toBe("T");
    const m = buildMessage([notice({ summary: "a", level: Level.Warning }), notice({ summary: "b" })]);
    expect(m).toMatchObject({ title: "2 guardrail firings (sweep s1)", lines: ["a", "b"], level: Level.Critical });
  });

  it("templates fill known placeholders and reject unknown ones", () => {
    expect(renderTemplate("{{experiment}} {{ metric }}={{value}}/{{threshold}} {{action}}", notice())).toBe("X m=2/1 pause");
    expect(unknownPlaceholders("{{title}} {{bogus}} {{summary}}")).toEqual(["bogus"]);
  });

  it("Slack and Telegram escape their markup", () => {
    const m = buildMessage([notice({ title: "<b>&", summary: "a<b>" })]);
    expect(renderSlack(m).blocks[1]).toEqual({ type: "section", text: { type: "mrkdwn", text: "a&lt;b&gt;" } });
    expect(renderTelegram(m, "1").text).toBe("<b>&lt;b&gt;&amp;</b>\na&lt;b&gt;");
  });

  it("signs webhooks as t=<unix>,v1=<hmac hex>", () => {
    // Reference value from `printf '1700000000.{}' | openssl dgst -sha256 -hmac k`.
    expect(signWebhook("k", "{}", 1700000000)).toBe("t=1700000000,v1=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146");
  });
});

describe("secret box", () => {
  it("round-trips, and refuses another channel id or key", () => {
    const box = createSecretBox("0123456789abcdef-key");
    const sealed = box.seal("hunter2", "ch1");
    expect(sealed).not.toContain("hunter2");
    expect(box.open(sealed, "ch1")).toBe("hunter2");
    expect(() => box.open(sealed, "ch2")).toThrow();
    expect(() => createSecretBox("another-key-0123456").open(sealed, "ch1")).toThrow();
    expect(box.seal("hunter2", "ch1")).not.toBe(sealed);
  });
});
