import { randomUUID } from "node:crypto";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Db } from "@lotty/platform/db";
import { invalidArgument, invalidArguments, notFound } from "@lotty/platform/rpc";
import type { NotificationService } from "@lotty/proto/notification";
import type { Send } from "../delivery/send.js";
import { testMessage } from "../domain/message.js";
import type { SecretBox } from "../secrets/secret-box.js";
import { deleteChannel, getChannel, insertChannel, listChannels, updateChannel, type ChannelRecord } from "../store/channels.js";
import { decodeCursor, pageSize, paginate } from "../store/pagination.js";
import { channelNameViolations, channelToProto, parseChannel, type SecretInput } from "./channel-codec.js";

type ChannelRpcs = Pick<
  ServiceImpl<typeof NotificationService>,
  "createChannel" | "getChannel" | "listChannels" | "updateChannel" | "deleteChannel" | "testChannel"
>;

const CHANNEL_MASK = new Set(["name", "config"]);

export function channelHandlers(deps: { db: Db; box: SecretBox; clock: () => Date; send: Send }): ChannelRpcs {
  /** Applies a secret input to a record: seal a value, remember an env name, or keep what is stored. */
  function withSecret(rec: ChannelRecord, s: SecretInput): ChannelRecord {
    if (s.env) return { ...rec, secretBox: null, secretEnv: s.env };
    if (s.value) return { ...rec, secretBox: deps.box.seal(s.value, rec.id), secretEnv: null };
    return rec;
  }

  async function mustGet(id: string): Promise<ChannelRecord> {
    if (!id) throw invalidArgument("id", "required");
    const rec = await getChannel(deps.db, id);
    if (!rec) throw notFound("channel", id);
    return rec;
  }

  return {
    async createChannel(req) {
      const { parsed, violations } = parseChannel(req.channel, false);
      if (!parsed) throw invalidArguments(violations);
      const now = deps.clock();
      const rec = withSecret(
        { id: randomUUID(), name: parsed.name, config: parsed.config, secretBox: null, secretEnv: null, createTime: now, updateTime: now },
        parsed.secret,
      );
      await insertChannel(deps.db, rec);
      return { channel: channelToProto(rec) };
    },

    async getChannel(req) {
      return { channel: channelToProto(await mustGet(req.id)) };
    },

    async listChannels(req) {
      const limit = pageSize(req.pageSize);
      const rows = await listChannels(deps.db, limit + 1, decodeCursor(req.pageToken));
      const page = paginate(rows, limit, (r) => ({ time: r.createTime, id: r.id }));
      return { channels: page.items.map(channelToProto), nextPageToken: page.nextPageToken };
    },

    async updateChannel(req) {
      if (!req.channel) throw invalidArgument("channel", "required");
      const existing = await mustGet(req.channel.id);
      const paths = req.updateMask?.paths.length ? req.updateMask.paths : [...CHANNEL_MASK];
      const bad = paths.find((p) => !CHANNEL_MASK.has(p));
      if (bad) throw invalidArgument("update_mask", `unknown path "${bad}"; allowed: name, config`);
      let next: ChannelRecord = { ...existing, updateTime: deps.clock() };
      if (paths.includes("name")) {
        const name = req.channel.name.trim();
        const violations = channelNameViolations(name);
        if (violations.length > 0) throw invalidArguments(violations);
        next.name = name;
      }
      if (paths.includes("config")) {
        // The stored secret carries over only while the kind stays the same.
        const sameKind = req.channel.config.case === existing.config.kind;
        const { parsed, violations } = parseChannel({ ...req.channel, name: next.name }, sameKind);
        if (!parsed) throw invalidArguments(violations);
        next = withSecret({ ...next, config: parsed.config }, parsed.secret);
      }
      await updateChannel(deps.db, next);
      return { channel: channelToProto(next) };
    },

    async deleteChannel(req) {
      if (!req.id) throw invalidArgument("id", "required");
      if (!(await deleteChannel(deps.db, req.id))) throw notFound("channel", req.id);
      return {};
    },

    async testChannel(req) {
      const rec = await mustGet(req.id);
      const started = performance.now();
      const outcome = await deps.send(rec, testMessage(deps.clock()), `test-${randomUUID()}`);
      const took = durationFromMs(Math.round(performance.now() - started));
      return outcome.kind === "delivered" ? { ok: true, error: "", took } : { ok: false, error: outcome.error, took };
    },
  };
}
