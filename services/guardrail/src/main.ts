// Runs the guardrail service alone, on real Postgres, Redis and NATS (configured by environment).
import { runStandalone } from "@lotty/platform/standalone";
import { guardrailDefinition } from "./definition.js";

await runStandalone(guardrailDefinition);
