import { connect, createServer, type Socket } from "node:net";

/**
 * How the proxy treats traffic:
 * - pass: forwards at once;
 * - delay: forwards every chunk `ms` later, in order (a slow link);
 * - drop: silently discards everything on every open and new connection, and those connections
 *   stay dead after the mode changes (the peer vanished without a FIN or RST, e.g. a failover or
 *   a network partition longer than TCP retransmits); only new connections work again.
 */
export type ProxyMode = { kind: "pass" } | { kind: "delay"; ms: number } | { kind: "drop" };

export interface TcpProxy {
  readonly port: number;
  setMode(mode: ProxyMode): void;
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
    if (this.to.destroyed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].due <= now) this.to.write(this.queue.shift()!.data);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.pump(), this.queue[0].due - now);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** One client connection and its upstream. */
class Link {
  private upstream: Socket | undefined;
  /** Everything sent either way is discarded, for good. */
  private dead = false;
  private readonly pipes: Pipe[] = [];

  constructor(
    readonly client: Socket,
    private readonly targetPort: number,
    private readonly mode: () => ProxyMode,
    private readonly onClose: (link: Link) => void,
  ) {
    client.on("data", (d: Buffer) => {
      if (!this.dead) this.pipes[0]?.push(d);
    });
    client.on("error", () => this.destroy());
    client.on("close", () => this.destroy());
  }

  open(): void {
    const upstream = connect(this.targetPort, "127.0.0.1");
    this.upstream = upstream;
    this.pipes.push(new Pipe(upstream, this.mode), new Pipe(this.client, this.mode));
    upstream.on("data", (d: Buffer) => {
      if (!this.dead) this.pipes[1].push(d);
    });
    upstream.on("error", () => this.destroy());
    upstream.on("close", () => this.destroy());
  }

  /** Re-applies the proxy's mode to this connection. */
  update(): void {
    const kind = this.mode().kind;
    if (this.dead) return;
    if (kind === "drop") {
      this.dead = true;
      for (const p of this.pipes) p.stop();
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
    const link = new Link(client, targetPort, () => mode, (l) => links.delete(l));
    links.add(link);
    // A connection made while dropping never reaches the upstream.
    if (mode.kind === "drop") link.update();
    else link.open();
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
        close: () =>
          new Promise<void>((done) => {
            for (const link of [...links]) link.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
