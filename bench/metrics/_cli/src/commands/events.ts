import { readFileSync } from "node:fs";
import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  EventFieldType,
  EventSchema,
  EventTypeSchema,
  MetricsService,
  RejectionReason,
  RejectionSchema,
  TrackEventsResponseSchema,
  type Event,
  type EventType,
  type TrackEventsResponse,
} from "@lotty/proto/metrics";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import { ExitCode, UsageError } from "../exit-codes.js";
import { enumLabel, table, type Column } from "../output.js";

/** TrackEvents takes at most this many events per call. */
const BATCH = 1000;

/**
 * Events from a file: a JSON array, or NDJSON (one event per line), fields as in the Event
 * message (camelCase or snake_case, timestamps as RFC 3339).
 */
export function readEventsFile(path: string): Event[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  const toEvent = (item: unknown, where: string) => {
    try {
      return fromJson(EventSchema, item as JsonValue);
    } catch (err) {
      throw new UsageError(`${path} ${where}: ${(err as Error).message}`);
    }
  };
  if (text.trimStart().startsWith("[")) {
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
    }
    return (items as unknown[]).map((item, i) => toEvent(item, `item ${i}`));
  }
  const events: Event[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (err) {
      throw new UsageError(`${path} line ${i + 1} is not valid JSON: ${(err as Error).message}`);
    }
    events.push(toEvent(item, `line ${i + 1}`));
  });
  return events;
}

function summary(r: TrackEventsResponse): string {
  const lines = [`accepted ${r.accepted}, duplicates ${r.duplicates}, rejected ${r.rejected}`];
  if (r.rejections.length > 0) {
    lines.push(
      table(r.rejections, [
        { header: "index", value: (x) => String(x.index) },
        { header: "event", value: (x) => x.eventId },
        { header: "reason", value: (x) => enumLabel(RejectionReason[x.reason], "") },
        { header: "field", value: (x) => x.field },
        { header: "message", value: (x) => x.message },
      ]),
    );
  }
  return lines.join("\n");
}

const typeColumns: Column<EventType>[] = [
  { header: "key", value: (t) => t.key },
  { header: "requires exposure", value: (t) => (t.requiresExposure ? "yes" : "") },
  { header: "fields", value: (t) => t.fields.map((f) => `${f.name}:${enumLabel(EventFieldType[f.type], "")}${f.required ? "" : "?"}`).join(", ") },
  { header: "archived", value: (t) => (t.archived ? "yes" : "") },
  { header: "description", value: (t) => t.description },
];

const describeType = (t: EventType) => table([t], typeColumns);

/** "amount:number" (required) or "coupon:string?" (optional). */
function parseField(spec: string) {
  const m = /^([A-Za-z_][A-Za-z0-9_]*):(string|number|bool|boolean)(\?)?$/.exec(spec);
  if (!m) throw new UsageError(`--field ${spec}: expected name:string|number|bool, with a trailing ? when optional`);
  const type = m[2] === "string" ? EventFieldType.STRING : m[2] === "number" ? EventFieldType.NUMBER : EventFieldType.BOOL;
  return { name: m[1], type, required: m[3] === undefined };
}

export function eventCommands(program: Command, ctx: () => CliContext): void {
  const events = program.command("events").description("events and the event catalog");
  const client = () => ctx().client(MetricsService);

  events
    .command("send <file>")
    .description(`send events from a JSON array or NDJSON file, in batches of ${BATCH} (exit code 4 if any is rejected)`)
    .action(async (file: string) => {
      const all = readEventsFile(file);
      const total = create(TrackEventsResponseSchema);
      for (let i = 0; i < all.length; i += BATCH) {
        const res = await client().trackEvents({ events: all.slice(i, i + BATCH) });
        total.accepted += res.accepted;
        total.duplicates += res.duplicates;
        total.rejected += res.rejected;
        // Indexes as positions in the file, not in the batch.
        total.rejections.push(...res.rejections.map((r) => create(RejectionSchema, { ...r, index: r.index + i })));
        ctx().out.progress(`sent ${Math.min(i + BATCH, all.length)}/${all.length} (accepted ${total.accepted}, duplicates ${total.duplicates}, rejected ${total.rejected})`);
      }
      ctx().out.progress("");
      ctx().out.message(TrackEventsResponseSchema, total, summary);
      if (total.rejected > 0) {
        // run() reports a resolved command as exit code 0 and program.ts is not this module's to
        // change; the summary is already printed (one JSON document with --json), so only the
        // exit code is set, as the process ends.
        process.once("exit", () => {
          process.exitCode = ExitCode.invalidArgument;
        });
      }
    });

  const types = events.command("types").description("event types (the catalog)");
  types
    .command("list")
    .description("list event types")
    .option("--all", "include archived types")
    .action(async (o: { all?: boolean }) => {
      const all: EventType[] = [];
      let pageToken = "";
      do {
        const res = await client().listEventTypes({ includeArchived: Boolean(o.all), pageSize: 500, pageToken });
        all.push(...res.eventTypes);
        pageToken = res.nextPageToken;
      } while (pageToken);
      ctx().out.list(EventTypeSchema, all, typeColumns);
    });

  types
    .command("create <key>")
    .description("create an event type")
    .option("--description <text>", "what the event means", "")
    .option("--requires-exposure", "count only once the subject's exposure is known")
    .option("--field <name:type>", "a field (string|number|bool; suffix ? = optional); repeatable", (v: string, prev: string[]) => [...prev, v], [])
    .action(async (key: string, o: { description: string; requiresExposure?: boolean; field: string[] }) => {
      const { eventType } = await client().createEventType({
        eventType: { key, description: o.description, requiresExposure: Boolean(o.requiresExposure), fields: o.field.map(parseField) },
      });
      ctx().out.message(EventTypeSchema, eventType!, describeType);
    });
}
