import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createRpcClient } from "../rpc/index.js";
import type { Peers } from "../service/index.js";

/** "lotty.experiment.v1.ExperimentService" → "experiment". */
export function contextOf(service: DescService): string {
  return service.typeName.split(".")[1] ?? service.typeName;
}

/** Standalone: peers over gRPC at the URLs configured per context. */
export function networkPeers(urls: Record<string, string>, timeoutMs: number): Peers {
  const clients = new Map<string, unknown>();
  return {
    client<T extends DescService>(service: T): Client<T> {
      const cached = clients.get(service.typeName);
      if (cached) return cached as Client<T>;
      const url = urls[contextOf(service)];
      if (!url) throw new Error(`no URL configured for peer ${service.typeName}`);
      const client = createRpcClient(service, url, { timeoutMs });
      clients.set(service.typeName, client);
      return client;
    },
  };
}

/**
 * Embedded: peers through an in-memory router transport. The transport is bound after every
 * module is built (modules are wired to each other before any call happens), so calls go
 * through the same Connect interfaces as in production without a socket.
 */
export function lateBoundPeers(): Peers & { bind(transport: Transport): void } {
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
    bind(t) {
      bound = t;
    },
  };
}
