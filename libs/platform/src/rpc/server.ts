import type { DescFile } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health, file_grpc_health_v1_health } from "@lotty/proto/grpc-health";
import type { Registry } from "prom-client";
import type { Logger } from "../log/index.js";
import { rpcMetricsInterceptor, tracingServerInterceptor } from "../telemetry/index.js";
import { HealthState } from "./health.js";
import { healthzRoute, httpFallback, metricsRoute, type HttpRoute } from "./http-routes.js";
import { DualProtocolListener } from "./listener.js";
import { ReflectionIndex, reflectionFiles, reflectionServices, routeReflection } from "./reflection.js";

export interface RpcServerOptions {
  name: string;
  routes: (router: ConnectRouter) => void;
  /** Files of the services that `routes` serves; reflection and health are derived from them. */
  files: DescFile[];
  interceptors?: Interceptor[];
  http?: HttpRoute[];
  metrics?: Registry;
  logger?: Logger;
}

export interface RpcServer {
  listen(port: number, host?: string): Promise<{ port: number }>;
  close(opts?: { graceMs?: number }): Promise<void>;
  setServing(service: string, serving: boolean): void;
}

const DEFAULT_GRACE_MS = 10_000;

export function createRpcServer(opts: RpcServerOptions): RpcServer {
  const services = [
    ...opts.files.flatMap((f) => f.services.map((s) => s.typeName)),
    Health.typeName,
    ...reflectionServices,
  ];
  const health = new HealthState(services);
  const reflection = new ReflectionIndex([...opts.files, file_grpc_health_v1_health, ...reflectionFiles], services);
  const interceptors = [
    tracingServerInterceptor(),
    ...(opts.metrics ? [rpcMetricsInterceptor(opts.metrics)] : []),
    ...(opts.interceptors ?? []),
  ];
  const httpRoutes = [
    healthzRoute(() => health.draining),
    ...(opts.metrics ? [metricsRoute(opts.metrics)] : []),
    ...(opts.http ?? []),
  ];
  const handler = connectNodeAdapter({
    interceptors,
    routes: (router) => {
      opts.routes(router);
      router.service(Health, health.impl());
      routeReflection(router, reflection);
    },
    fallback: httpFallback(httpRoutes, opts.logger),
  });
  const listener = new DualProtocolListener(handler);
  let closing: Promise<void> | undefined;

  return {
    async listen(port, host = "0.0.0.0") {
      const bound = await listener.listen(port, host);
      opts.logger?.info({ port: bound, host, services }, `${opts.name} listening`);
      return { port: bound };
    },
    close({ graceMs = DEFAULT_GRACE_MS } = {}) {
      closing ??= (async () => {
        opts.logger?.info({ graceMs }, `${opts.name} draining`);
        health.shutdown();
        await listener.close(graceMs);
        opts.logger?.info(`${opts.name} closed`);
      })();
      return closing;
    },
    setServing: (service, serving) => health.set(service, serving),
  };
}
