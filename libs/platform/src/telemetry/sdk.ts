import { NodeSDK } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";

export interface TelemetryOptions {
  serviceName: string;
  /** OTLP/HTTP base URL (e.g. http://collector:4318); defaults to $OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint?: string;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * Starts tracing only when an OTLP endpoint is configured. Without one nothing is
 * registered, so the API stays a no-op and the RPC interceptors cost almost nothing.
 * Call it first in main, before pg/ioredis are loaded, so their instrumentation can hook in.
 */
export function startTelemetry(opts: TelemetryOptions): Telemetry {
  const endpoint = opts.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return { shutdown: async () => {} };
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` }),
    // Metrics go to Prometheus via prom-client and logs to stdout via pino, not OTLP.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [new PgInstrumentation(), new IORedisInstrumentation()],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
