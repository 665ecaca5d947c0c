import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from "@opentelemetry/api";
import type { ConnectError, Interceptor } from "@connectrpc/connect";
import { codeName, observeCall, rpcName } from "./rpc-call.js";

// The tracer is looked up per call (cheap) so a provider registered after module load,
// e.g. by startTelemetry in main or by a test, is picked up.
const TRACER_NAME = "@lotty/platform/rpc";

const fetchHeadersGetter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => h.get(key) ?? undefined,
};
const fetchHeadersSetter: TextMapSetter<Headers> = {
  set: (h, key, value) => h.set(key, value),
};

function endSpan(span: Span, error: ConnectError | undefined): void {
  if (error) {
    span.setAttribute("rpc.connect_rpc.error_code", codeName(error.code));
    span.setAttribute("rpc.grpc.status_code", error.code);
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
  }
  span.end();
}

function startRpcSpan(name: string, kind: SpanKind, parent: Context, service: string, method: string): Span {
  return trace.getTracer(TRACER_NAME).startSpan(
    name,
    { kind, attributes: { "rpc.system": "connect_rpc", "rpc.service": service, "rpc.method": method } },
    parent,
  );
}

/**
 * SERVER span per RPC, parented on the caller's W3C traceparent. Needed because
 * instrumentation-http does not see node:http2, where most of our RPCs arrive.
 */
export function tracingServerInterceptor(): Interceptor {
  return (next) => (req) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.header, fetchHeadersGetter);
    const span = startRpcSpan(rpcName(req), SpanKind.SERVER, parent, req.service.typeName, req.method.name);
    return context.with(trace.setSpan(parent, span), () => observeCall(next, req, (err) => endSpan(span, err)));
  };
}

/** CLIENT span per outgoing RPC; injects traceparent so the server joins the trace. */
export function tracingClientInterceptor(): Interceptor {
  return (next) => (req) => {
    const span = startRpcSpan(rpcName(req), SpanKind.CLIENT, context.active(), req.service.typeName, req.method.name);
    const ctx = trace.setSpan(context.active(), span);
    propagation.inject(ctx, req.header, fetchHeadersSetter);
    return context.with(ctx, () => observeCall(next, req, (err) => endSpan(span, err)));
  };
}

/** Writes the active trace context into message headers (e.g. NATS); returns them. */
export function injectTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

/** Runs fn inside the trace context carried by message headers (e.g. a consumed NATS message). */
export function withExtractedContext<T>(headers: Record<string, string>, fn: () => T): T {
  return context.with(propagation.extract(context.active(), headers), fn);
}
