import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/index.js";

function capture(level?: string) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger("decision", { level, destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { logger, lines };
}

describe("createLogger", () => {
  it("writes JSON with the service name and a level label", () => {
    const { logger, lines } = capture();
    logger.info({ flag: "checkout" }, "decided");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ service: "decision", level: "info", msg: "decided", flag: "checkout" });
  });

  it("redacts secret-looking keys at any depth, keeping the rest", () => {
    const { logger, lines } = capture();
    logger.info(
      {
        token: "t0",
        req: { headers: { authorization: "Bearer abc", "x-api-key": "k1", accept: "json" } },
        config: { db: { password: "pw", host: "pg" }, nats: { creds: { secret: "s" } } },
        client: { apiKey: "k2", api_key: "k3", name: "sdk" },
      },
      "request",
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ["t0", "Bearer abc", "k1", "pw", '"s"', "k2", "k3"]) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      token: "[redacted]",
      req: { headers: { authorization: "[redacted]", "x-api-key": "[redacted]", accept: "json" } },
      config: { db: { password: "[redacted]", host: "pg" }, nats: { creds: { secret: "[redacted]" } } },
      client: { apiKey: "[redacted]", api_key: "[redacted]", name: "sdk" },
    });
  });

  it("respects the level option", () => {
    const { logger, lines } = capture("warn");
    logger.info("dropped");
    logger.warn("kept");
    expect(lines.map((l) => l.msg)).toEqual(["kept"]);
  });
});
