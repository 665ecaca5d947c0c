// A peer evaluation server for the wire benchmark: @unleash/proxy serving one bootstrapped toggle
// (the peers' workload: `country IN [US]`, 50 % rollout, a/b variants). There is no Unleash
// server here, so the upstream URL points at a closed port; the proxy serves the bootstrap.
import { createApp } from "@unleash/proxy";
import { LogLevel } from "@unleash/proxy/dist/logger.js";
import { Operator } from "unleash-client/lib/strategy/strategy.js";

const port = Number(process.env.PORT ?? 3000);

const checkout = {
  name: "checkout",
  enabled: true,
  type: "experiment",
  strategies: [
    {
      name: "flexibleRollout",
      parameters: { rollout: "50", stickiness: "userId", groupId: "checkout" },
      constraints: [{ contextName: "country", operator: Operator.IN, values: ["US"], inverted: false, caseInsensitive: false }],
    },
  ],
  variants: [
    { name: "a", weight: 500, weightType: "variable", stickiness: "userId" },
    { name: "b", weight: 500, weightType: "variable", stickiness: "userId" },
  ],
};

const app = createApp({
  unleashUrl: "http://127.0.0.1:9/api/",
  unleashApiToken: "bench",
  clientKeys: ["bench-secret"],
  refreshInterval: 3_600_000,
  logLevel: LogLevel.fatal,
  expBootstrap: { data: [checkout] },
});

const server = app.listen(port, "127.0.0.1", () => console.log(`unleash-proxy ready on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
