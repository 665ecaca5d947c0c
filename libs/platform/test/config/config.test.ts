import { describe, expect, expectTypeOf, it } from "vitest";
import { ConfigError, configTable, env, loadConfig } from "../../src/config/index.js";

const spec = {
  LOTTY_PORT: env.port({ default: 8080, doc: "gRPC/Connect listen port" }),
  DATABASE_URL: env.url({ optional: true, protocols: ["postgres:", "postgresql:"], secret: true, doc: "Postgres URL" }),
  LOTTY_MODE: env.oneOf(["embedded", "service"] as const, { default: "embedded", doc: "how to run" }),
  POOL_MAX: env.int({ min: 1, max: 100, default: 10, doc: "pool size" }),
  TRACE: env.bool({ default: false, doc: "export traces" }),
  SERVICE_NAME: env.string({ doc: "name | label" }),
  TIMEOUT: env.durationMs({ default: 5000, doc: "RPC deadline" }),
};

describe("loadConfig", () => {
  it("applies defaults and types the result", () => {
    const cfg = loadConfig(spec, { SERVICE_NAME: "decision" });
    expect(cfg).toEqual({
      LOTTY_PORT: 8080,
      DATABASE_URL: undefined,
      LOTTY_MODE: "embedded",
      POOL_MAX: 10,
      TRACE: false,
      SERVICE_NAME: "decision",
      TIMEOUT: 5000,
    });
    expectTypeOf(cfg.LOTTY_PORT).toEqualTypeOf<number>();
    expectTypeOf(cfg.DATABASE_URL).toEqualTypeOf<string | undefined>();
    expectTypeOf(cfg.LOTTY_MODE).toEqualTypeOf<"embedded" | "service">();
    expectTypeOf(cfg.TRACE).toEqualTypeOf<boolean>();
    expectTypeOf(cfg.SERVICE_NAME).toEqualTypeOf<string>();
  });

  it("parses every kind of value", () => {
    const cfg = loadConfig(spec, {
      LOTTY_PORT: "9090",
      DATABASE_URL: "postgres://u:p@db:5432/lotty",
      LOTTY_MODE: "service",
      POOL_MAX: " 100 ",
      TRACE: "YES",
      SERVICE_NAME: "x",
      TIMEOUT: "1.5m",
    });
    expect(cfg).toMatchObject({
      LOTTY_PORT: 9090,
      DATABASE_URL: "postgres://u:p@db:5432/lotty",
      LOTTY_MODE: "service",
      POOL_MAX: 100,
      TRACE: true,
      TIMEOUT: 90_000,
    });
  });

  it.each([
    ["250ms", 250],
    ["5s", 5000],
    ["1m", 60_000],
    ["2h", 7_200_000],
    ["1200", 1200],
  ])("reads duration %s as %d ms", (raw, ms) => {
    expect(loadConfig(spec, { SERVICE_NAME: "x", TIMEOUT: raw }).TIMEOUT).toBe(ms);
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig(spec, { SERVICE_NAME: "x", LOTTY_PORT: "", DATABASE_URL: "" })).toMatchObject({
      LOTTY_PORT: 8080,
      DATABASE_URL: undefined,
    });
  });

  it("lists every bad variable with the reason and the value", () => {
    let error: unknown;
    try {
      loadConfig(spec, {
        LOTTY_PORT: "70000",
        DATABASE_URL: "mysql://root:hunter2@db/x",
        LOTTY_MODE: "cluster",
        POOL_MAX: "ten",
        TRACE: "maybe",
        TIMEOUT: "5 minutes",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.issues.map((i) => i.name)).toEqual([
      "LOTTY_PORT",
      "DATABASE_URL",
      "LOTTY_MODE",
      "POOL_MAX",
      "TRACE",
      "SERVICE_NAME",
      "TIMEOUT",
    ]);
    expect(e.message).toContain('LOTTY_PORT: must be between 0 and 65535 (got "70000")');
    expect(e.message).toContain('DATABASE_URL: must use postgres: or postgresql: (got "***")');
    expect(e.message).not.toContain("hunter2");
    expect(e.message).toContain('LOTTY_MODE: must be one of embedded, service (got "cluster")');
    expect(e.message).toContain('POOL_MAX: must be an integer (got "ten")');
    expect(e.message).toContain('TRACE: must be one of true/false');
    expect(e.message).toContain("SERVICE_NAME: is required but not set");
    expect(e.message).toContain('TIMEOUT: must be a duration like "250ms", "5s", "1m" or plain milliseconds (got "5 minutes")');
  });

  it("enforces int bounds and rejects non-URLs", () => {
    expect(() => loadConfig(spec, { SERVICE_NAME: "x", POOL_MAX: "0" })).toThrow('POOL_MAX: must be between 1 and 100 (got "0")');
    expect(() => loadConfig(spec, { SERVICE_NAME: "x", DATABASE_URL: "localhost:5432" })).toThrow(
      /DATABASE_URL: must (be an absolute URL|use postgres)/,
    );
    expect(() => loadConfig(spec, { SERVICE_NAME: "x", DATABASE_URL: "not a url" })).toThrow("DATABASE_URL: must be an absolute URL");
  });
});

describe("sizes", () => {
  const sizes = { MAX_REQUEST: env.bytes({ default: 4 * 1024 * 1024, min: 1024, max: 1024 ** 3, doc: "largest request" }) };
  const read = (raw: string) => loadConfig(sizes, { MAX_REQUEST: raw }).MAX_REQUEST;

  it.each([
    ["4MiB", 4 * 1024 * 1024],
    ["512KiB", 512 * 1024],
    ["1 GiB", 1024 ** 3],
    ["2048", 2048],
    ["2048B", 2048],
  ])("reads %s as %d bytes", (raw, bytes) => {
    expect(read(raw)).toBe(bytes);
  });

  it.each([
    ["4MB", "must be a size like"],
    ["1.5MiB", "must be a size like"],
    ["-1", "must be a size like"],
    ["1000", "must be between 1KiB and 1GiB"],
    ["2GiB", "must be between 1KiB and 1GiB"],
  ])("refuses %s naming the variable", (raw, reason) => {
    expect(() => read(raw)).toThrow(`MAX_REQUEST: ${reason}`);
  });

  it("shows in the table with its bounds and default in binary units", () => {
    expect(configTable(sizes)).toContain("| `MAX_REQUEST` | size (1KiB..1GiB) | `4MiB` | largest request |");
  });
});

describe("configTable", () => {
  it("renders a markdown table with types, defaults and escaped docs", () => {
    expect(configTable(spec).split("\n")).toEqual([
      "| Variable | Type | Default | Description |",
      "| --- | --- | --- | --- |",
      "| `LOTTY_PORT` | port | `8080` | gRPC/Connect listen port |",
      "| `DATABASE_URL` | url (postgres: postgresql:) |  | Postgres URL |",
      "| `LOTTY_MODE` | `embedded` \\| `service` | `embedded` | how to run |",
      "| `POOL_MAX` | int (1..100) | `10` | pool size |",
      "| `TRACE` | bool | `false` | export traces |",
      "| `SERVICE_NAME` | string | *required* | name \\| label |",
      "| `TIMEOUT` | duration | `5s` | RPC deadline |",
    ]);
  });
});
