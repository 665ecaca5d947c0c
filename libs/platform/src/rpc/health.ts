import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
  HealthCheckResponseSchema,
  type HealthCheckResponse,
  HealthListResponseSchema,
} from "@lotty/proto/grpc-health";

/**
 * grpc.health.v1.Health state: "" is the server as a whole, plus one entry per served
 * service. shutdown() flips everything to NOT_SERVING and ends open Watch streams.
 */
export class HealthState {
  private readonly statuses = new Map<string, Status>();
  private readonly waiters = new Set<() => void>();
  private shuttingDown = false;

  constructor(services: readonly string[]) {
    for (const name of ["", ...services]) this.statuses.set(name, Status.SERVING);
  }

  set(service: string, serving: boolean): void {
    if (this.shuttingDown) return; // draining is one-way
    this.statuses.set(service, serving ? Status.SERVING : Status.NOT_SERVING);
    this.notify();
  }

  shutdown(): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, Status.NOT_SERVING);
    this.shuttingDown = true;
    this.notify();
  }

  get draining(): boolean {
    return this.shuttingDown;
  }

  private notify(): void {
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  private changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  impl(): ServiceImpl<typeof Health> {
    return {
      check: (req) => {
        const status = this.statuses.get(req.service);
        if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
        return create(HealthCheckResponseSchema, { status });
      },
      list: () =>
        create(HealthListResponseSchema, {
          statuses: Object.fromEntries([...this.statuses].map(([name, status]) => [name, { status }])),
        }),
      watch: (req, ctx) => this.watch(req.service, ctx.signal),
    };
  }

  private async *watch(service: string, signal: AbortSignal): AsyncGenerator<HealthCheckResponse> {
    let last: Status | undefined;
    while (!signal.aborted) {
      const status = this.statuses.get(service) ?? Status.SERVICE_UNKNOWN;
      if (status !== last) yield create(HealthCheckResponseSchema, { status });
      last = status;
      if (this.shuttingDown) return; // let the client see NOT_SERVING, then end
      await this.changed(signal);
    }
  }
}
