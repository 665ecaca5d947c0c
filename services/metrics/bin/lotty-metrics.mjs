#!/usr/bin/env node
// Starts the metrics service (TypeScript sources run through tsx; no build step).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
