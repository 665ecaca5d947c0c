// Regression found by test/fuzz: UpdateChannel stored a 10k-character name (only create was bounded).
import { create } from "@bufbuild/protobuf";
import { ChannelSchema, RuleSchema } from "@lotty/proto/notification";
import { describe, expect, it } from "vitest";
import { channelNameViolations, parseChannel } from "../src/handlers/channel-codec.js";
import { parseRule } from "../src/handlers/rule-codec.js";

describe("channel and rule bounds", () => {
  it("bounds channel names on create and update alike", () => {
    expect(channelNameViolations("ops")).toEqual([]);
    expect(channelNameViolations("")).toEqual([{ field: "channel.name", description: "required" }]);
    expect(channelNameViolations("n".repeat(201)).map((v) => v.field)).toEqual(["channel.name"]);
    const created = parseChannel(create(ChannelSchema, { name: "n".repeat(201), config: { case: "webhook", value: { url: "http://127.0.0.1:9/x", secret: "s" } } }), false);
    expect(created.violations.map((v) => v.field)).toEqual(["channel.name"]);
  });

  it("bounds rule texts", () => {
    const { violations } = parseRule(create(RuleSchema, { name: "r", owner: "o".repeat(201), template: "t".repeat(10_001), channelIds: ["c"] }));
    expect(violations.map((v) => v.field)).toEqual(["rule.owner", "rule.template"]);
  });
});
