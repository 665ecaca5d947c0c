export { startTelemetry, type Telemetry, type TelemetryOptions } from "./sdk.js";
export {
  tracingServerInterceptor,
  tracingClientInterceptor,
  injectTraceHeaders,
  withExtractedContext,
} from "./tracing.js";
export { createMetricsRegistry, rpcMetricsInterceptor } from "./metrics.js";
