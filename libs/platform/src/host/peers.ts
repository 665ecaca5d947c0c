import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createRpcClient } from "../rpc/index.js";
import type { Peers } from "../service/index.js";

/** "lotty.experiment.v1.ExperimentService" → "experiment". */
export function contextOf(service: DescService): string {
  return service.typeName.split(".")[1] ?? service.typeName;
}

/** Standalone: peers over gRPC at the URLs configured per context; `interceptors` add the service identity. */
export function networkPeers(urls: Record<string, string>, timeoutMs: number, interceptors: Interceptor[] = []): Peers {
  const clients = new Map<string, unknown>();
  return {
    client<T extends DescService>(service: T): Client<T> {
      const cached = clients.get(service.typeName);
      if (cached) return cached as Client<T>;
      const url = urls[contextOf(service)];
      if (!url) throw new Error(`no URL configured for peer ${service.typeName}`);
      const client = createRpcClient(service, url, { timeoutMs, interceptors });
      clients.set(service.typeName, client);
      return client;
    },
  };
}

/** Adds `authorization: Bearer <token>` to every call through a transport (the router transport takes no per-caller interceptors). */
function withBearer(t: Transport, token: () => Promise<string>): Transport {
  const headers = async (init: HeadersInit | undefined) => {
    const h = new Headers(init);
    h.set("authorization", `Bearer ${await token()}`);
    return h;
  };
  return {
    unary: async (method, signal, timeoutMs, header, input, values) => t.unary(method, signal, timeoutMs, await headers(header), input, values),
    stream: async (method, signal, timeoutMs, header, input, values) => t.stream(method, signal, timeoutMs, await headers(header), input, values),
  };
}

/**
 * Embedded: peers through an in-memory router transport. The transport is bound after every
 * module is built (modules are wired to each other before any call happens), so calls go
 * through the same Connect interfaces as in production without a socket. `as(token)` gives one
 * module's peers, presenting that module's service token.
 */
export function lateBoundPeers(): Peers & { bind(transport: Transport): void; as(token: () => Promise<string>): Peers } {
  let bound: Transport | undefined;
  const transport: Transport = {
    unary: (...args) => required().unary(...args),
    stream: (...args) => required().stream(...args),
  };
  function required(): Transport {
    if (!bound) throw new Error("peer transport used before the host bound it");
    return bound;
  }
  return {
    client: (service) => createClient(service, transport),
    as(token) {
      const t = withBearer(transport, token);
      return { client: (service) => createClient(service, t) };
    },
    bind(t) {
      bound = t;
    },
  };
}
