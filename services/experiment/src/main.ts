// Runs the experiment service alone, on real Postgres, Redis and NATS (configured by environment).
import { runStandalone } from "@lotty/platform/standalone";
import { experimentDefinition } from "./definition.js";

await runStandalone(experimentDefinition);
