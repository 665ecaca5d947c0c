import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { tracingClientInterceptor } from "../telemetry/index.js";

export interface RpcClientOptions {
  interceptors?: Interceptor[];
  timeoutMs?: number;
}

// Peers answer from memory or one store round trip; a call still pending after this is stuck.
const DEFAULT_TIMEOUT_MS = 5_000;

/** gRPC (always HTTP/2 in connect-node) to a peer service, traced. Sessions are unref'd, so an idle client keeps no process alive. */
export function createRpcClient<T extends DescService>(service: T, baseUrl: string, opts: RpcClientOptions = {}): Client<T> {
  const transport = createGrpcTransport({
    baseUrl,
    defaultTimeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    interceptors: [tracingClientInterceptor(), ...(opts.interceptors ?? [])],
  });
  return createClient(service, transport);
}
