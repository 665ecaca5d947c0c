// Many Decide clients in a process of their own (`node --import tsx`), so their work does not
// share the server's event loop: the server's queueing delay is then its own. Prints one JSON
// line of outcomes to stdout. Settings come from the environment (see decide-flood.test.ts).
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DecisionService } from "@lotty/proto/decision";

export interface Outcome {
  /** Connect code name, "ok" for success. */
  code: string;
  ms: number;
  decisionId?: string;
}

const url = process.env.FLOOD_URL ?? "";
const clients = Number(process.env.FLOOD_CLIENTS);
const durationMs = Number(process.env.FLOOD_MS);
const maxCalls = Number(process.env.FLOOD_MAX_CALLS);
const deadlineMs = Number(process.env.FLOOD_DEADLINE_MS);
const flagKey = process.env.FLOOD_FLAG ?? "";

const actor = (name: string): Interceptor => (next) => (req) => (req.header.set("x-lotty-actor", name), next(req));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const outcomes: Outcome[] = [];
const until = performance.now() + durationMs;
// Every client has its own HTTP/2 connection, as separate callers would.
async function client(c: number): Promise<void> {
  const decision = createClient(DecisionService, createGrpcTransport({ baseUrl: url, interceptors: [actor(`sdk-${c}`)] }));
  for (let i = 0; i < maxCalls && performance.now() < until; i++) {
    const started = performance.now();
    try {
      const res = await decision.decide({ flagKey, subjectId: `c${c}-s${i}` }, { timeoutMs: deadlineMs });
      outcomes.push({ code: "ok", ms: performance.now() - started, decisionId: res.decisionId });
    } catch (e) {
      const code = ConnectError.from(e).code;
      outcomes.push({ code: Code[code], ms: performance.now() - started });
      // What a well-behaved caller does with RESOURCE_EXHAUSTED: back off a little.
      if (code === Code.ResourceExhausted) await sleep(5);
    }
  }
}

await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
