// Docker HEALTHCHECK: GET /healthz on this container's port (200 serving, 503 draining).
// Plain JavaScript and node's fetch, since the slim image has no curl and tsx would only slow
// every probe down. Kubernetes ignores it and probes gRPC health instead.
import { readFileSync } from "node:fs";

const service = process.env.LOTTY_SERVICE ?? "";
if (service === "cli") process.exit(0); // a one-shot command, nothing serves

// LOTTY_PORT when set (compose and the manifests set it); otherwise the port the process picks
// itself: the service's defaultPort, or the embedded default.
function port() {
  if (process.env.LOTTY_PORT) return process.env.LOTTY_PORT;
  if (service === "embedded") return "8080";
  const definition = readFileSync(new URL(`../../services/${service}/src/definition.ts`, import.meta.url), "utf8");
  return /defaultPort: (\d+)/.exec(definition)?.[1] ?? "8080";
}

try {
  const res = await fetch(`http://127.0.0.1:${port()}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
