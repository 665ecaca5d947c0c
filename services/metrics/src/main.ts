// Runs the metrics service alone, on real Postgres, Redis and NATS (configured by environment).
import { runStandalone } from "@lotty/platform/standalone";
import { metricsDefinition } from "./definition.js";

await runStandalone(metricsDefinition);
