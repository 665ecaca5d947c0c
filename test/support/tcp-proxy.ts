import { connect, createServer, type Socket } from "node:net";

/**
 * How the proxy treats traffic:
 * - pass: forwards at once;
 * - delay: forwards every chunk `ms` later, in order (a slow link);
 * - stall: holds every chunk, and new connections, until the mode changes (a partition that
 *   heals: TCP would retransmit, so nothing is lost, the peer just hears nothing meanwhile);
 * - cut: resets every open connection and every new one (the peer went away).
 */
export type ProxyMode = { kind: "pass" } | { kind: "delay"; ms: number } | { kind: "stall" } | { kind: "cut" };

export interface TcpProxy {
  readonly port: number;
  setMode(mode: ProxyMode): void;
  /** Open client connections. */
  connections(): number;
  close(): Promise<void>;
}

interface Chunk {
  data: Buffer;
  due: number;
}

/** One direction of one connection: a queue released by the proxy's current mode. */
class Pipe {
  private readonly queue: Chunk[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly to: Socket,
    private readonly mode: () => ProxyMode,
  ) {}

  push(data: Buffer): void {
    const m = this.mode();
    this.queue.push({ data, due: Date.now() + (m.kind === "delay" ? m.ms : 0) });
    this.pump();
  }

  /** Writes what is due; re-arms a timer for the rest. Called on every push and mode change. */
  pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.mode().kind === "stall" || this.to.destroyed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].due <= now) this.to.write(this.queue.shift()!.data);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.pump(), this.queue[0].due - now);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** One client connection; its upstream is opened at once, or when a stall ends. */
class Link {
  upstream: Socket | undefined;
  private readonly pipes: Pipe[] = [];
  private readonly early: Buffer[] = [];

  constructor(
    readonly client: Socket,
    private readonly targetPort: number,
    private readonly mode: () => ProxyMode,
    private readonly onClose: (link: Link) => void,
  ) {
    client.on("data", (d: Buffer) => (this.upstream ? this.pipes[0].push(d) : this.early.push(d)));
    client.on("error", () => this.destroy());
    client.on("close", () => this.destroy());
  }

  open(): void {
    const upstream = connect(this.targetPort, "127.0.0.1");
    this.upstream = upstream;
    this.pipes.push(new Pipe(upstream, this.mode), new Pipe(this.client, this.mode));
    // Bytes the client sent before the upstream existed go first.
    for (const d of this.early.splice(0)) this.pipes[0].push(d);
    upstream.on("data", (d: Buffer) => this.pipes[1].push(d));
    upstream.on("error", () => this.destroy());
    upstream.on("close", () => this.destroy());
  }

  /** Re-applies the proxy's mode to this connection. */
  update(): void {
    const kind = this.mode().kind;
    if (kind === "cut") {
      this.client.resetAndDestroy();
      this.destroy();
    } else if (!this.upstream) {
      if (kind !== "stall") this.open();
    } else {
      for (const p of this.pipes) p.pump();
    }
  }

  destroy(): void {
    for (const p of this.pipes) p.stop();
    this.client.destroy();
    this.upstream?.destroy();
    this.onClose(this);
  }
}

/** A loopback TCP proxy to 127.0.0.1:targetPort whose behaviour can be switched at run time. */
export function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = { kind: "pass" };
  const links = new Set<Link>();
  const server = createServer((client) => {
    if (mode.kind === "cut") {
      client.resetAndDestroy();
      return;
    }
    const link = new Link(client, targetPort, () => mode, (l) => links.delete(l));
    links.add(link);
    if (mode.kind !== "stall") link.open();
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      resolve({
        port,
        setMode(next) {
          mode = next;
          for (const link of [...links]) link.update();
        },
        connections: () => links.size,
        close: () =>
          new Promise<void>((done) => {
            for (const link of [...links]) link.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
