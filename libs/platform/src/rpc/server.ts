import type { DescFile } from "@bufbuild/protobuf";
import { createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, file_grpc_health_v1_health } from "@lotty/proto/grpc-health";
import type { Registry } from "prom-client";
import { createAdmission, type AdmissionOptions } from "../admission/admission.js";
import type { Logger } from "../log/index.js";
import { rpcMetricsInterceptor, tracingServerInterceptor } from "../telemetry/index.js";
import { HealthState } from "./health.js";
import { healthzRoute, httpFallback, metricsRoute, type HttpRoute } from "./http-routes.js";
import { DualProtocolListener } from "./listener.js";
import { adapterLimits, boundedErrorsInterceptor, nulFreeStringsInterceptor, type RpcLimits } from "./limits.js";
import { ReflectionIndex, reflectionFiles, reflectionServices, routeReflection } from "./reflection.js";
import { useBufferTextEncoding } from "./text-encoding.js";
import { requestValidationInterceptor } from "./validation.js";
import { answerUndecodableAsInvalidArgument, decodedInterceptor } from "./undecodable.js";

export interface RpcServerOptions {
  name: string;
  routes: (router: ConnectRouter) => void;
  /** Files of the services that `routes` serves; reflection and health are derived from them. */
  files: DescFile[];
  interceptors?: Interceptor[];
  http?: HttpRoute[];
  metrics?: Registry;
  logger?: Logger;
  /** Admission control (priority load shedding), ahead of `interceptors` and `http`; none when absent. */
  admission?: AdmissionOptions;
  /** Interceptors that see every call, shed ones included (SLO tracking); they run before admission. */
  observers?: Interceptor[];
  /** Request size bounds (default: 4 MiB per message). */
  limits?: RpcLimits;
}

export interface RpcServer {
  listen(port: number, host?: string): Promise<{ port: number }>;
  close(opts?: { graceMs?: number }): Promise<void>;
  setServing(service: string, serving: boolean): void;
}

const DEFAULT_GRACE_MS = 10_000;

export function createRpcServer(opts: RpcServerOptions): RpcServer {
  useBufferTextEncoding();
  const services = [
    ...opts.files.flatMap((f) => f.services.map((s) => s.typeName)),
    Health.typeName,
    ...reflectionServices,
  ];
  const health = new HealthState(services);
  const reflection = new ReflectionIndex([...opts.files, file_grpc_health_v1_health, ...reflectionFiles], services);
  const admission = opts.admission ? createAdmission(opts.admission, { registry: opts.metrics }) : undefined;
  const interceptors = [
    // First: marks the calls connect-es could decode (see undecodable.ts).
    decodedInterceptor(),
    // Outermost after it, so it bounds every error sent, whichever layer raised it.
    boundedErrorsInterceptor(),
    tracingServerInterceptor(),
    ...(opts.metrics ? [rpcMetricsInterceptor(opts.metrics)] : []),
    ...(opts.observers ?? []),
    ...(admission ? [admission.interceptor] : []),
    ...(opts.interceptors ?? []),
    // Last: bad input is judged only for callers that may call at all.
    nulFreeStringsInterceptor(),
    requestValidationInterceptor(),
  ];
  const httpRoutes = [
    healthzRoute(() => health.draining),
    ...(opts.metrics ? [metricsRoute(opts.metrics)] : []),
    ...(admission ? admission.guardHttp(opts.http ?? []) : (opts.http ?? [])),
  ];
  const handler = connectNodeAdapter({
    ...adapterLimits(opts.limits),
    interceptors,
    // One per request, shared by the handler's wrapper and the interceptors.
    contextValues: () => createContextValues(),
    routes: (router) => {
      opts.routes(router);
      router.service(Health, health.impl());
      routeReflection(router, reflection);
      // The adapter serves router.handlers as they are once this callback returns.
      router.handlers.forEach((h, i) => (router.handlers[i] = answerUndecodableAsInvalidArgument(h)));
    },
    fallback: httpFallback(httpRoutes, opts.logger),
  });
  const listener = new DualProtocolListener(handler);
  let closing: Promise<void> | undefined;

  return {
    async listen(port, host = "0.0.0.0") {
      const bound = await listener.listen(port, host);
      admission?.start();
      opts.logger?.info({ port: bound, host, services }, `${opts.name} listening`);
      return { port: bound };
    },
    close({ graceMs = DEFAULT_GRACE_MS } = {}) {
      closing ??= (async () => {
        opts.logger?.info({ graceMs }, `${opts.name} draining`);
        health.shutdown();
        await listener.close(graceMs);
        admission?.close();
        opts.logger?.info(`${opts.name} closed`);
      })();
      return closing;
    },
    setServing: (service, serving) => health.set(service, serving),
  };
}
