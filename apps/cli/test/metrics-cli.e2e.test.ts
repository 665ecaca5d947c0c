import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { allServices } from "@lotty/embedded/services";
import { startEmbedded, type EmbeddedLotty } from "@lotty/platform/host";
import { createLogger } from "@lotty/platform/log";
import { MetricRole, MetricsService } from "@lotty/proto/metrics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = new URL("../../../", import.meta.url).pathname;

interface CliRun {
  code: number;
  out: string;
  err: string;
  json(): any;
}

/** Runs the real CLI in its own process, as a user would (asynchronously: the server is in this process). */
// Auth is on: alice calls with an admin token, bob (the approver) with an approver token.
const tokens = { alice: "", bob: "" };

function lotty(url: string, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "--url", url, "--token", tokens.alice, ...args], { cwd: root, encoding: "utf8" }, (err, out, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, out, err: stderr, json: () => JSON.parse(out) });
    });
  });
}

// Needs eventCommands, metricCommands and reportCommand registered in apps/cli/src/program.ts.
describe("lotty events / metrics / report against the embedded default", () => {
  let server: EmbeddedLotty;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    server = await startEmbedded(allServices, { port: 0, host: "127.0.0.1", logger: createLogger("test", { level: "silent" }) });
    url = `http://127.0.0.1:${server.port}`;
    tokens.alice = await server.auth!.mintToken({ sub: "alice", roles: ["admin"] });
    tokens.bob = await server.auth!.mintToken({ sub: "bob", roles: ["approver"] });
    dir = mkdtempSync(join(tmpdir(), "lotty-metrics-cli-"));
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("catalogs events, defines a metric, ingests a file and reports with the SRM warning first", async () => {
    // A running experiment (control / one-page, 50/50).
    expect((await lotty(url, "flags", "create", "checkout.new-flow", "--type", "bool", "--default", "false")).code).toBe(0);
    const id: string = (await lotty(url, "--json", "experiments", "create", "-f", "examples/checkout-experiment.yaml")).json().id;
    expect((await lotty(url, "experiments", "submit", id)).code).toBe(0);
    const approve = await new Promise<CliRun>((resolve) =>
      execFile(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "--url", url, "--token", tokens.bob, "experiments", "approve", id, "-m", "ok"], { cwd: root, encoding: "utf8" }, (err, out, e) =>
        resolve({ code: err ? Number(err.code) : 0, out, err: e, json: () => JSON.parse(out) }),
      ),
    );
    expect(approve.code, approve.err).toBe(0);
    expect((await lotty(url, "experiments", "start", id)).code).toBe(0);

    const created = await lotty(url, "events", "types", "create", "purchase", "--field", "value:number", "--description", "an order");
    expect(created.code, created.err).toBe(0);
    expect((await lotty(url, "events", "types", "create", "x", "--field", "value:colour")).code).toBe(2);
    const types = await lotty(url, "--json", "events", "types", "list");
    expect(types.json().map((t: { key: string }) => t.key)).toEqual(expect.arrayContaining(["exposure", "purchase"]));

    const metric = await lotty(url, "metrics", "create", "purchase_conversion", "--type", "conversion", "--event", "purchase");
    expect(metric.code, metric.err).toBe(0);
    writeFileSync(join(dir, "revenue.yaml"), "key: revenue_per_user\nname: Revenue per user\ntype: METRIC_TYPE_SUM\neventType: purchase\n");
    expect((await lotty(url, "metrics", "create", "-f", join(dir, "revenue.yaml"))).code).toBe(0);
    expect((await lotty(url, "metrics", "show", "revenue_per_user")).out).toContain("sum");
    expect((await lotty(url, "metrics", "list")).out).toMatch(/purchase_conversion[\s\S]*revenue_per_user|revenue_per_user[\s\S]*purchase_conversion/);
    expect((await lotty(url, "metrics", "create", "m", "--type", "median", "--event", "purchase")).code).toBe(2);
    const client = createClient(MetricsService, createGrpcTransport({ baseUrl: url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${tokens.alice}`), next(req))] }));
    await client.setExperimentMetrics({
      experimentId: id,
      attachments: [
        { metricKey: "purchase_conversion", role: MetricRole.PRIMARY },
        { metricKey: "revenue_per_user", role: MetricRole.SECONDARY },
      ],
    });

    // 60 control subjects against 10 one-page subjects at 50/50 weights: a sample-ratio mismatch.
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const events = Array.from({ length: 70 }, (_, i) => {
      const subjectId = `user-${i}`;
      const variant = i < 60 ? "control" : "one-page";
      const exposure = { eventId: `x-${i}`, type: "exposure", subjectId, experimentId: id, variant, timestamp: at(0) };
      return i % 3 === 0 ? [exposure, { eventId: `p-${i}`, type: "purchase", subjectId, value: 10 + i, timestamp: at(1000) }] : [exposure];
    }).flat();
    const ndjson = join(dir, "events.ndjson");
    writeFileSync(ndjson, [...events, { eventId: "bad-1", type: "no_such_type", subjectId: "user-1", timestamp: at(0) }].map((e) => JSON.stringify(e)).join("\n"));

    const sent = await lotty(url, "events", "send", ndjson);
    expect(sent.code, sent.err).toBe(4);
    expect(sent.out).toContain(`accepted ${events.length}, duplicates 0, rejected 1`);
    expect(sent.out).toMatch(new RegExp(`${events.length}\\s+bad-1\\s+unknown_type`));

    const array = join(dir, "events.json");
    writeFileSync(array, JSON.stringify(events));
    const again = await lotty(url, "--json", "events", "send", array);
    expect(again.code, again.err).toBe(0);
    expect(again.json()).toMatchObject({ duplicates: events.length });

    const report = await lotty(url, "report", id);
    expect(report.code, report.err).toBe(0);
    expect(report.out.split("\n")[0]).toMatch(/^!! SAMPLE RATIO MISMATCH/);
    expect(report.out).toMatch(/purchase_conversion \(primary, conversion/);
    expect(report.out).toMatch(/VARIANT\s+N\s+MEAN\s+ABS LIFT \[95% CI\]\s+REL LIFT \[95% CI\]\s+P-VALUE\s+ADJ\. P\s+SIG/);
    expect(report.out).toMatch(/control \(control\)\s+60\s+0\.3333/);

    const json = await lotty(url, "report", id, "--json");
    expect(json.code, json.err).toBe(0);
    expect(json.json()).toMatchObject({ experimentId: id, srm: { mismatch: true } });
    expect(json.json().metrics.map((m: { metricKey: string }) => m.metricKey)).toEqual(["purchase_conversion", "revenue_per_user"]);

    const windowed = await lotty(url, "--json", "report", id, "--window-start", at(-3_600_000), "--window-end", at(3_600_000));
    expect(windowed.code, windowed.err).toBe(0);
    expect(windowed.json().variants.map((v: { subjects: string }) => Number(v.subjects))).toEqual([60, 10]);
    expect((await lotty(url, "report", id, "--window-start", "yesterday-ish")).code).toBe(2);
    expect((await lotty(url, "report", "no-such-experiment")).code).toBe(3);
  }, 120_000);
});
