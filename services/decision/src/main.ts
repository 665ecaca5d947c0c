// Runs the decision service alone, on real Postgres, Redis and NATS (configured by environment).
import { runStandalone } from "@lotty/platform/standalone";
import { decisionDefinition } from "./definition.js";

await runStandalone(decisionDefinition);
