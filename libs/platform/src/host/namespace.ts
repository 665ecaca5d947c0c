import type { Bus } from "../bus/types.js";

/**
 * Prefixes every subject and durable name with a namespace, so several Lotty installations (or
 * test runs) can share one NATS server without reading each other's events.
 */
export function namespacedBus(bus: Bus, namespace: string): Bus {
  const prefix = `${namespace}.`;
  return {
    publish: (subject, data, opts) => bus.publish(prefix + subject, data, opts),
    subscribe: (opts) =>
      bus.subscribe({
        ...opts,
        subjects: opts.subjects.map((s) => prefix + s),
        durable: opts.durable === undefined ? undefined : `${namespace}-${opts.durable}`,
        handler: (msg) => opts.handler({ ...msg, subject: msg.subject.slice(prefix.length) }),
      }),
    isConnected: () => bus.isConnected(),
    close: () => bus.close(),
  };
}
