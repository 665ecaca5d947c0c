// Runs the notification service alone, on real Postgres, Redis and NATS (configured by environment).
import { runStandalone } from "@lotty/platform/standalone";
import { notificationDefinition } from "./definition.js";

await runStandalone(notificationDefinition);
