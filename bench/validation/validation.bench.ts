// Cost of protovalidate on the hot paths: what the request-validation interceptor would add to
// every Decide and DecideBatch, next to the code checks the decision handlers already make, and
// what it adds to a full TrackEvents batch (whose events carry no rules of their own).
// Usage: node --import tsx bench/validation/validation.bench.ts [--n 100000]
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DecideBatchRequestSchema, DecideRequestSchema } from "@lotty/proto/decision";
import { TrackEventsRequestSchema } from "@lotty/proto/metrics";
import { validateDecide, validateDecideBatch } from "../../services/decision/src/handlers/validate.js";

const { values: args } = parseArgs({ options: { n: { type: "string", default: "100000" } } });
const N = Number(args.n);

const attributes = {
  country: { kind: { case: "stringValue" as const, value: "US" } },
  app_version: { kind: { case: "stringValue" as const, value: "1.6.2" } },
  age: { kind: { case: "numberValue" as const, value: 31 } },
  beta: { kind: { case: "boolValue" as const, value: true } },
  plan: { kind: { case: "stringValue" as const, value: "pro" } },
};
const decide = create(DecideRequestSchema, { subjectId: "user-12345", flagKey: "checkout.new_flow", attributes });
const batch = create(DecideBatchRequestSchema, { subjectId: "user-12345", attributes, flagKeys: Array.from({ length: 20 }, (_, i) => `flag.${i}`) });
const events = create(TrackEventsRequestSchema, {
  events: Array.from({ length: 1000 }, (_, i) => ({ eventId: `evt-${i}`, type: "purchase", subjectId: `user-${i}`, timestamp: timestampFromMs(Date.now()), value: 9.99 })),
});

/** ns per call of fn over N calls, after N/10 warm-up calls; `sink` keeps the work observable. */
function nsPerOp(fn: () => unknown): number {
  let sink = 0;
  for (let i = 0; i < N / 10; i++) sink += fn() ? 1 : 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) sink += fn() ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - start) / N;
  if (sink < 0) console.log(sink);
  return ns;
}

const validator = createValidator();
function valid<D extends DescMessage>(schema: D, msg: MessageShape<D>): boolean {
  const r = validator.validate(schema, msg);
  if (r.kind !== "valid") throw new Error(`${schema.typeName} should be valid: ${r.error?.message}`);
  return true;
}

const rows = [
  { what: "Decide: protovalidate", ns: nsPerOp(() => valid(DecideRequestSchema, decide)) },
  { what: "Decide: code checks (handler)", ns: nsPerOp(() => (validateDecide(decide), true)) },
  { what: "DecideBatch (20 flags): protovalidate", ns: nsPerOp(() => valid(DecideBatchRequestSchema, batch)) },
  { what: "DecideBatch (20 flags): code checks (handler)", ns: nsPerOp(() => (validateDecideBatch(batch), true)) },
  { what: "TrackEvents (1000 events): protovalidate", ns: nsPerOp(() => valid(TrackEventsRequestSchema, events)) },
];
console.log(`validation cost, ${N} calls each, 5 attributes (load average ${loadavg().map((l) => l.toFixed(2)).join(" ")})`);
for (const r of rows) console.log(`  ${r.what.padEnd(48)} ${r.ns.toFixed(0).padStart(7)} ns/op`);
