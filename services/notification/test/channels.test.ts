import type { AddressInfo } from "node:net";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { Subjects } from "@lotty/platform/events";
import { ReviewRequestedSchema } from "@lotty/proto/events";
import { ChannelKind, DeliveryStatus, Severity } from "@lotty/proto/notification";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openHarness, publish, type Harness } from "./support/harness.js";
import { startReceiver, waitFor, type Receiver } from "./support/receiver.js";

let h: Harness;
let rx: Receiver;

interface Mail {
  from: string;
  to: string[];
  raw: string;
  user?: string | null;
  pass?: string | null;
}
const mails: Mail[] = [];
const credentials = new Map<string, { user?: string | null; pass?: string | null }>(); // by SMTP session id
let smtp: SMTPServer;
let smtpPort = 0;

beforeAll(async () => {
  h = await openHarness();
  rx = await startReceiver();
  smtp = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: true,
    onAuth(auth, session, cb) {
      credentials.set(session.id, { user: auth.username, pass: auth.password });
      cb(null, { user: auth.username });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          ...credentials.get(session.id),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
  smtpPort = (smtp.server.address() as AddressInfo).port;
}, 30_000);

afterAll(async () => {
  await h.close();
  await rx.close();
  await new Promise<void>((r) => smtp.close(() => r()));
});

const SECRETS = ["hook-secret-value-123", "xoxb-telegram-token-456", "smtp-password-789", "/services/SLACKSECRETPATH"];

async function expectInvalid(p: Promise<unknown>, field: string): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  expect((err as ConnectError).message).toContain(`field "${field}"`);
}

describe("channels", () => {
  it("never returns or logs secrets", async () => {
    const created = await Promise.all([
      h.client.createChannel({ channel: { name: "hook", config: { case: "webhook", value: { url: `${rx.url}/h`, secret: SECRETS[0] } } } }),
      h.client.createChannel({ channel: { name: "tg", config: { case: "telegram", value: { botToken: SECRETS[1], chatId: "-100", apiBaseUrl: rx.url } } } }),
      h.client.createChannel({
        channel: { name: "mail", config: { case: "email", value: { smtpHost: "127.0.0.1", smtpPort, username: "u", password: SECRETS[2], from: "lotty@example.com", to: ["team@example.com"] } } },
      }),
      h.client.createChannel({ channel: { name: "slack", config: { case: "slack", value: { webhookUrl: `${rx.url}${SECRETS[3]}` } } } }),
    ]);
    const listed = await h.client.listChannels({});
    const got = await Promise.all(created.map((c) => h.client.getChannel({ id: c.channel!.id })));
    const everything = JSON.stringify([created, listed, got], (_, v: unknown) => (typeof v === "bigint" ? String(v) : v));
    for (const s of SECRETS) expect(everything).not.toContain(s);
    expect(got[0].channel!.kind).toBe(ChannelKind.WEBHOOK);
    expect(got[0].channel!.config).toMatchObject({ case: "webhook", value: { url: `${rx.url}/h`, secret: "" } });

    // Stored sealed, not in plain text.
    const { rows } = await h.db.query<{ row: string }>("SELECT row_to_json(c)::text AS row FROM notification.channels c");
    for (const s of SECRETS) expect(rows.map((r) => r.row).join()).not.toContain(s);

    // Send through all of them, then check the logs.
    await Promise.all(created.slice(0, 2).map((c) => h.client.testChannel({ id: c.channel!.id })));
    for (const s of SECRETS) expect(h.logs.join("\n")).not.toContain(s);
  });

  it("reads a secret from the environment when *_env is given", async () => {
    process.env.LOTTY_TEST_HOOK_SECRET = "from-env-secret";
    const { channel } = await h.client.createChannel({
      channel: { name: "env hook", config: { case: "webhook", value: { url: `${rx.url}/env`, secretEnv: "LOTTY_TEST_HOOK_SECRET" } } },
    });
    expect(channel!.config).toMatchObject({ case: "webhook", value: { secretEnv: "LOTTY_TEST_HOOK_SECRET", secret: "" } });
    const res = await h.client.testChannel({ id: channel!.id });
    expect(res.ok).toBe(true);
    const call = rx.requests.find((r) => r.path === "/env")!;
    const { createHmac } = await import("node:crypto");
    const [t, v1] = String(call.headers["x-lotty-signature"]).split(",").map((p) => p.split("=")[1]);
    expect(v1).toBe(createHmac("sha256", "from-env-secret").update(`${t}.${call.body}`).digest("hex"));

    delete process.env.LOTTY_TEST_HOOK_SECRET;
    const missing = await h.client.testChannel({ id: channel!.id });
    expect(missing).toMatchObject({ ok: false, error: "environment variable LOTTY_TEST_HOOK_SECRET is not set" });
  });

  it("keeps the stored secret when an update changes only the URL", async () => {
    const { channel } = await h.client.createChannel({ channel: { name: "keep", config: { case: "webhook", value: { url: `${rx.url}/old`, secret: "keep-me-secret" } } } });
    const { channel: updated } = await h.client.updateChannel({
      channel: { id: channel!.id, name: "renamed", config: { case: "webhook", value: { url: `${rx.url}/new` } } },
    });
    expect(updated!.name).toBe("renamed");
    expect((await h.client.testChannel({ id: channel!.id })).ok).toBe(true);
    const call = rx.requests.find((r) => r.path === "/new")!;
    const { createHmac } = await import("node:crypto");
    const [t, v1] = String(call.headers["x-lotty-signature"]).split(",").map((p) => p.split("=")[1]);
    expect(v1).toBe(createHmac("sha256", "keep-me-secret").update(`${t}.${call.body}`).digest("hex"));
    // Switching kind needs a new secret.
    await expectInvalid(
      h.client.updateChannel({ channel: { id: channel!.id, config: { case: "slack", value: {} } }, updateMask: { paths: ["config"] } }),
      "channel.slack.webhook_url",
    );
  });

  it("TestChannel posts Telegram's sendMessage with chat_id, text and parse_mode", async () => {
    const { channel } = await h.client.createChannel({
      channel: { name: "tg", config: { case: "telegram", value: { botToken: "123:abc", chatId: "-1001", apiBaseUrl: `${rx.url}/tg/` } } },
    });
    const res = await h.client.testChannel({ id: channel!.id });
    expect(res.ok).toBe(true);
    const call = rx.requests.find((r) => r.path === "/tg/bot123:abc/sendMessage")!;
    expect(JSON.parse(call.body)).toEqual({ chat_id: "-1001", text: "<b>Lotty test message</b>\nThis channel is set up correctly.", parse_mode: "HTML" });
  });

  it("TestChannel reports a failing channel", async () => {
    const bad = await startReceiver(() => ({ status: 404, body: "no_service" }));
    const { channel } = await h.client.createChannel({ channel: { name: "bad slack", config: { case: "slack", value: { webhookUrl: `${bad.url}/x` } } } });
    const res = await h.client.testChannel({ id: channel!.id });
    await bad.close();
    expect(res).toMatchObject({ ok: false, error: "HTTP 404: no_service" });
  });

  it("emails over SMTP (test message and an event)", async () => {
    const { channel } = await h.client.createChannel({
      channel: {
        name: "mail",
        config: { case: "email", value: { smtpHost: "127.0.0.1", smtpPort, username: "lotty", password: "smtp-pw", from: "lotty@example.com", to: ["a@example.com", "b@example.com"] } },
      },
    });
    expect((await h.client.testChannel({ id: channel!.id })).ok).toBe(true);
    expect(mails[0]).toMatchObject({ from: "lotty@example.com", to: ["a@example.com", "b@example.com"], user: "lotty", pass: "smtp-pw" });
    expect(mails[0].raw).toContain("Subject: [Lotty info] Lotty test message");

    await h.client.createRule({ rule: { name: "reviews", eventTypes: ["experiment.review_requested"], channelIds: [channel!.id], groupWindow: durationFromMs(0), enabled: true } });
    await publish(h.bus, Subjects.reviewRequested, ReviewRequestedSchema, {
      eventId: "review-1", experimentId: "exp-9", experimentName: "Pricing page", owner: "ana", approvers: ["bo", "cy"], minApprovals: 1,
    });
    await waitFor(() => mails.length >= 2, 5000, "event mail");
    expect(mails[1].raw).toContain("Subject: [Lotty info] Review requested: Pricing page");
    expect(mails[1].raw).toContain("Experiment Pricing page by ana needs 1 approval(s) from bo, cy");
    const { deliveries } = await h.client.listDeliveries({ eventId: "review-1" });
    expect(deliveries.map((d) => d.status)).toEqual([DeliveryStatus.DELIVERED]);
  });
});

describe("validation", () => {
  it("names the offending field", async () => {
    await expectInvalid(h.client.createChannel({}), "channel");
    await expectInvalid(h.client.createChannel({ channel: { name: "", config: { case: "slack", value: { webhookUrl: "https://x" } } } }), "channel.name");
    await expectInvalid(h.client.createChannel({ channel: { name: "n" } }), "channel.config");
    await expectInvalid(h.client.createChannel({ channel: { name: "n", config: { case: "webhook", value: { url: "ftp://x", secret: "s" } } } }), "channel.webhook.url");
    await expectInvalid(h.client.createChannel({ channel: { name: "n", config: { case: "webhook", value: { url: "https://x" } } } }), "channel.webhook.secret");
    await expectInvalid(
      h.client.createChannel({ channel: { name: "n", kind: ChannelKind.SLACK, config: { case: "webhook", value: { url: "https://x", secret: "s" } } } }),
      "channel.kind",
    );
    await expectInvalid(h.client.createChannel({ channel: { name: "n", config: { case: "telegram", value: { botToken: "t" } } } }), "channel.telegram.chat_id");
    await expectInvalid(
      h.client.createChannel({ channel: { name: "n", config: { case: "email", value: { smtpHost: "h", from: "a@b", to: ["nope"] } } } }),
      "channel.email.to[0]",
    );
    await expectInvalid(h.client.createRule({ rule: { name: "r", channelIds: [] } }), "rule.channel_ids");
    await expectInvalid(h.client.createRule({ rule: { name: "r", channelIds: ["missing"] } }), "rule.channel_ids");
    await expectInvalid(h.client.createRule({ rule: { name: "r", channelIds: ["c"], eventTypes: ["guardrail.fired"] } }), "rule.event_types[0]");
    await expectInvalid(h.client.createRule({ rule: { name: "r", channelIds: ["c"], template: "{{nope}}" } }), "rule.template");
    await expectInvalid(h.client.createRule({ rule: { name: "r", channelIds: ["c"], groupWindow: durationFromMs(-5) } }), "rule.group_window");
    await expectInvalid(h.client.listDeliveries({ pageToken: "garbage" }), "page_token");
    await expectInvalid(h.client.getChannel({ id: "" }), "id");
  });

  it("rules round-trip, update by mask and page", async () => {
    const { channel } = await h.client.createChannel({ channel: { name: "r", config: { case: "slack", value: { webhookUrl: `${rx.url}/r` } } } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { rule } = await h.client.createRule({
        rule: { name: `r${i}`, channelIds: [channel!.id], minSeverity: Severity.WARNING, metricKeys: ["error_rate"], enabled: true },
      });
      expect(rule!.groupWindow).toEqual(durationFromMs(10_000)); // the default
      ids.push(rule!.id);
    }
    const { rule } = await h.client.updateRule({ rule: { id: ids[0], name: "renamed", enabled: false }, updateMask: { paths: ["name", "enabled"] } });
    expect(rule).toMatchObject({ name: "renamed", enabled: false, minSeverity: Severity.WARNING, metricKeys: ["error_rate"] });
    const first = await h.client.listRules({ pageSize: 2 });
    const second = await h.client.listRules({ pageSize: 2, pageToken: first.nextPageToken });
    const all = [...first.rules, ...second.rules].map((r) => r.id);
    expect(all.filter((id) => ids.includes(id))).toEqual(ids);
    await h.client.deleteRule({ id: ids[1] });
    const gone = await h.client.getRule({ id: ids[1] }).catch((e: unknown) => e);
    expect((gone as ConnectError).code).toBe(Code.NotFound);
  });
});
