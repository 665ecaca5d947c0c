// A client-side load balancer over replicas of one service, standing in for a Kubernetes Service
// with a retrying proxy (or an SDK's retry policy) in front: calls go round-robin, and a call is
// retried on the next replica when the server cannot have acted on it, or acting twice is harmless
// (the calls balanced here are idempotent: Decide, and TrackEvents with event ids).
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

export interface Balancer {
  readonly transport: Transport;
  /** Puts a replica (base URL) behind the balancer. */
  add(baseUrl: string): void;
  /** Calls answered per replica, and calls retried on another replica, by the error that moved them. */
  stats(): { answered: Record<string, number>; retried: Record<string, number> };
}

const MAX_ATTEMPTS = 4;
/** A replica found gone is skipped this long (an LB's outlier ejection / failed readiness probe). */
const EJECT_MS = 1_000;

/** Why a call may go to another replica, or undefined when it may not. */
function retryReason(err: ConnectError): string | undefined {
  // Refused or no connection: the replica is gone.
  if (err.code === Code.Unavailable) return "unavailable";
  // The connection was reset or its stream cancelled under the call: the replica died while answering.
  if (err.code === Code.Aborted && /ECONNRESET|EPIPE/.test(err.rawMessage)) return "connection reset";
  if (err.code === Code.Canceled && /stream closed/.test(err.rawMessage)) return "connection reset";
  // Shed by admission control, which asks for a retry with backoff.
  if (err.code === Code.ResourceExhausted) return "shed";
  return undefined;
}

export function createBalancer(opts: { interceptors?: Interceptor[] } = {}): Balancer {
  const replicas: { url: string; transport: Transport; answered: number; ejectedUntil: number }[] = [];
  const retried: Record<string, number> = {};
  let next = 0;

  /** Round-robin over the replicas not ejected (all of them when every one is). */
  function pick() {
    const now = Date.now();
    const live = replicas.filter((r) => r.ejectedUntil <= now);
    const pool = live.length > 0 ? live : replicas;
    return pool[next++ % pool.length];
  }

  async function call<T>(attempt: (t: Transport) => Promise<T>): Promise<T> {
    if (replicas.length === 0) throw new ConnectError("no replica behind the balancer", Code.Unavailable);
    for (let i = 1; ; i++) {
      const replica = pick();
      try {
        const res = await attempt(replica.transport);
        replica.answered++;
        return res;
      } catch (err) {
        const reason = retryReason(ConnectError.from(err));
        if (i >= MAX_ATTEMPTS || reason === undefined) throw err;
        retried[reason] = (retried[reason] ?? 0) + 1;
        // A gone replica is skipped for a while; a shedding one is retried after a backoff with jitter.
        if (reason === "shed") await new Promise((r) => setTimeout(r, 20 * i + Math.random() * 20));
        else replica.ejectedUntil = Date.now() + EJECT_MS;
      }
    }
  }

  const transport: Transport = {
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ) {
      return call((t) => t.unary(method, signal, timeoutMs, header, input, contextValues));
    },
    stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ) {
      // A stream's input cannot be replayed: no failover.
      return pick().transport.stream(method, signal, timeoutMs, header, input, contextValues);
    },
  };

  return {
    transport,
    add(url) {
      replicas.push({ url, transport: createGrpcTransport({ baseUrl: url, interceptors: opts.interceptors }), answered: 0, ejectedUntil: 0 });
    },
    stats: () => ({ answered: Object.fromEntries(replicas.map((r) => [r.url, r.answered])), retried: { ...retried } }),
  };
}
