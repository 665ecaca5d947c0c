import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./process.js";

const run = promisify(execFile);

/**
 * A dependency of this test alone (its own process, port and data directory), so a test can stop
 * and restart it without touching the machine's shared Postgres, Redis or NATS.
 */
export interface PrivateService {
  readonly port: number;
  /** Stops the server (data directory kept). */
  stop(): Promise<void>;
  /** Crashes the server (no shutdown work, data directory kept), as a SIGKILL or power loss would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it if running and removes its data directory. */
  close(): Promise<void>;
}

export interface PrivatePostgres extends PrivateService {
  /** URL of a database on this cluster (created by the service host when missing). */
  url(database: string): string;
}

/** The newest installed PostgreSQL's bin directory (Debian layout). */
function postgresBin(): string {
  const base = "/usr/lib/postgresql";
  const versions = readdirSync(base)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error(`no PostgreSQL under ${base}`);
  return join(base, versions[0], "bin");
}

/** Postgres refuses to run as root: then run it as the `postgres` OS user. */
async function asPostgresUser(cmd: string, args: string[]): Promise<void> {
  if (process.getuid?.() === 0) await run("runuser", ["-u", "postgres", "--", cmd, ...args]);
  else await run(cmd, args);
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A throwaway PostgreSQL cluster (initdb, trust auth, fsync off) on a free port. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "lotty-pg-"));
  const data = join(dir, "data");
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  let running = false;
  const ctl = (...args: string[]) => asPostgresUser(join(bin, "pg_ctl"), ["-D", data, ...args]);
  const svc: PrivatePostgres = {
    port,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await ctl(
        "-w",
        "-l",
        join(dir, "postgres.log"),
        "-o",
        // fsync off is safe here (kill() crashes the server, never the OS), but synchronous_commit
        // must stay on: off, a kill() loses commits already acknowledged, as it would in production.
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
        "start",
      );
      running = true;
    },
    async stop() {
      // fast: open sessions are terminated, as when the server goes down for real.
      await ctl("-w", "-m", "fast", "stop");
      running = false;
    },
    async kill() {
      // immediate: every server process quits at once, no checkpoint; the next start recovers from WAL.
      await ctl("-w", "-m", "immediate", "stop");
      running = false;
    },
    async close() {
      if (running) await ctl("-w", "-m", "immediate", "stop").catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await asPostgresUser(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
    await svc.start();
  } catch (err) {
    await svc.close();
    throw err;
  }
  return svc;
}

/** A server process that is started and stopped as a child (redis-server, nats-server). */
function childService(name: string, command: string, args: (port: number) => string[], ready: RegExp, dir: string | undefined) {
  return async (): Promise<PrivateService> => {
    const port = await freePort();
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    const svc: PrivateService = {
      port,
      async start() {
        const c = spawn(command, args(port), { stdio: ["ignore", "pipe", "pipe"] });
        child = c;
        exited = new Promise((resolve) => c.once("exit", () => resolve()));
        let out = "";
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${name} not ready after 10 s:\n${out}`)), 10_000);
          const onData = (chunk: Buffer) => {
            out += chunk.toString();
            if (ready.test(out)) {
              clearTimeout(timer);
              c.stdout!.off("data", onData);
              c.stderr!.off("data", onData);
              // Keep reading so a full pipe never blocks the server.
              c.stdout!.resume();
              c.stderr!.resume();
              resolve();
            }
          };
          c.stdout!.on("data", onData);
          c.stderr!.on("data", onData);
          c.once("error", reject);
          c.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`${name} exited with ${code}:\n${out}`));
          });
        });
      },
      async stop() {
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child?.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      },
      async kill() {
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGKILL");
        await exited;
      },
      async close() {
        await svc.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
    try {
      await svc.start();
    } catch (err) {
      await svc.close();
      throw err;
    }
    return svc;
  };
}

/** A private redis-server without persistence: a restart loses every key, as a real crash would. */
export function startPrivateRedis(): Promise<PrivateService> {
  return childService(
    "redis-server",
    "redis-server",
    (port) => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
    /Ready to accept connections/,
    undefined,
  )();
}

/** A private nats-server with JetStream; its store survives restarts, as a real one's would. */
export function startPrivateNats(): Promise<PrivateService> {
  const dir = mkdtempSync(join(tmpdir(), "lotty-nats-"));
  return childService(
    "nats-server",
    "/usr/sbin/nats-server",
    (port) => ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir],
    /Server is ready/,
    dir,
  )();
}
