// The five services as separate processes on a private Postgres (one cluster, a database per
// service, reached through a TCP proxy so it can be slowed), Redis and NATS, with auth off. Any
// process or dependency can be killed and brought back with the same configuration, and further
// replicas of a service started; close() removes everything whatever state start reached.
import { startPrivateNats, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateService } from "./private-services.js";
import { freePort, startNode, type RunningProcess } from "./process.js";
import { SERVICES, type ServiceName } from "./lotty-stack.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** One process of a service; restart() starts the same configuration (port, env) again. */
export interface ServiceReplica {
  readonly service: ServiceName;
  readonly replica: number;
  readonly url: string;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  output(): string;
}

export interface PrivateStack {
  readonly postgres: PrivatePostgres;
  readonly redis: PrivateService;
  readonly nats: PrivateService;
  /** Every service reaches Postgres through this proxy. */
  readonly postgresProxy: TcpProxy;
  /** Replica 1 of each service, which peers call. */
  primary(service: ServiceName): ServiceReplica;
  replicas(service: ServiceName): readonly ServiceReplica[];
  /** Starts one more process of a service on its own port (same database, bus and cache). */
  addReplica(service: ServiceName): Promise<ServiceReplica>;
  /** A service's database, directly (not through the proxy): for checks after the run. */
  databaseUrl(service: ServiceName): string;
  logs(): string;
  close(): Promise<void>;
}

export async function startPrivateStack(opts: { extraEnv?: Record<string, string> } = {}): Promise<PrivateStack> {
  const closers: (() => Promise<unknown>)[] = [];
  const replicas = new Map<ServiceName, ServiceReplica[]>(SERVICES.map((s) => [s, []]));
  /** Processes still starting: close() waits for them, so none outlives the stack. */
  const starting = new Set<Promise<RunningProcess>>();
  const close = async () => {
    // A failed test may close the stack while a replica is still starting (its closer comes after).
    await Promise.allSettled([...starting]);
    // Reverse order of start; one failing closer must not leave the others running.
    for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => console.error("cleanup:", err));
  };

  try {
    const deps = await Promise.allSettled([startPrivatePostgres(), startPrivateRedis(), startPrivateNats()]);
    for (const d of deps) if (d.status === "fulfilled") closers.push(() => d.value.close());
    const failed = deps.find((d): d is PromiseRejectedResult => d.status === "rejected");
    if (failed) throw failed.reason;
    const [postgres, redis, nats] = deps.map((d) => (d as PromiseFulfilledResult<PrivateService>).value) as [PrivatePostgres, PrivateService, PrivateService];
    const postgresProxy = await startTcpProxy(postgres.port);
    closers.push(() => postgresProxy.close());

    const ports = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()] as const))) as Record<ServiceName, number>;
    const env: Record<string, string> = {
      LOTTY_AUTH: "off",
      // Fault tests, not overload tests: on a CPU-starved 2-core runner admission control would shed
      // decides as overload (test/overload covers that), which these suites would count as failures.
      LOTTY_ADMISSION: "off",
      LOTTY_LOG_LEVEL: "info",
      NATS_URL: `nats://127.0.0.1:${nats.port}`,
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      // Changes are also picked up by a frequent resync, so a replica that missed an event catches up soon.
      LOTTY_DECISION_RESYNC_INTERVAL: "1s",
      ...Object.fromEntries(SERVICES.map((s) => [`LOTTY_${s.toUpperCase()}_URL`, `http://127.0.0.1:${ports[s]}`])),
      ...opts.extraEnv,
    };
    const databaseName = (s: ServiceName) => `lotty_${s}`;

    async function launch(service: ServiceName, port: number): Promise<ServiceReplica> {
      const list = replicas.get(service)!;
      const config = {
        ...env,
        LOTTY_PORT: String(port),
        DATABASE_URL: `postgres://postgres@127.0.0.1:${postgresProxy.port}/${databaseName(service)}`,
      };
      const spawn = () => {
        const started = startNode(`${service}#${list.length + 1}`, `services/${service}/src/main.ts`, config, new RegExp(`lotty-${service} ready`), 45_000);
        starting.add(started);
        return started.finally(() => starting.delete(started));
      };
      let proc: RunningProcess = await spawn();
      const earlier: string[] = [];
      // The variable, not this process: restart() replaces it.
      closers.push(() => proc.stop(5_000));
      const r: ServiceReplica = {
        service,
        replica: list.length + 1,
        url: `http://127.0.0.1:${port}`,
        kill: () => proc.kill(),
        async restart() {
          earlier.push(proc.output());
          proc = await spawn();
        },
        output: () => [...earlier, proc.output()].join("\n--- restarted\n"),
      };
      list.push(r);
      return r;
    }

    // The experiment service first: the others load rulesets and SDK keys from it at start.
    await launch("experiment", ports.experiment);
    const rest = await Promise.allSettled(SERVICES.filter((s) => s !== "experiment").map((s) => launch(s, ports[s])));
    const failedService = rest.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failedService) throw failedService.reason;

    return {
      postgres,
      redis,
      nats,
      postgresProxy,
      primary: (s) => replicas.get(s)![0],
      replicas: (s) => replicas.get(s)!,
      addReplica: async (s) => launch(s, await freePort()),
      databaseUrl: (s) => postgres.url(databaseName(s)),
      logs: () => [...replicas.values()].flat().map((r) => `--- ${r.service}#${r.replica}\n${r.output()}`).join("\n"),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
