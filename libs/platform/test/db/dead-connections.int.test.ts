import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type Db } from "../../src/db/index.js";
import { startTcpProxy, type TcpProxy } from "../../../../test/support/tcp-proxy.js";
import { adminUrl } from "./pg-env.js";

// Connections whose server vanished without a FIN or RST (failover, long partition) never answer.
// The pool must give up on them and open new ones, or it stays wedged after the network heals.
describe("postgres pool after its connections died silently", () => {
  let proxy: TcpProxy;
  let db: Db;

  beforeAll(async () => {
    const target = new URL(adminUrl);
    proxy = await startTcpProxy(Number(target.port || 5432));
    target.host = `127.0.0.1:${proxy.port}`;
    db = openPostgres(target.toString(), { max: 2, connectTimeoutMs: 300, queryTimeoutMs: 300 });
  });

  afterAll(async () => {
    await db.close();
    await proxy.close();
  });

  it("fails the calls made meanwhile and serves again once the network is back", async () => {
    await db.query("SELECT 1");
    proxy.setMode({ kind: "drop" });
    // More calls than the pool has clients: one on the dead connection, one on a new (dead) one, one queued.
    const meanwhile = await Promise.allSettled([1, 2, 3].map(() => db.query("SELECT 1")));
    expect(meanwhile.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    proxy.setMode({ kind: "pass" });
    const { rows } = await db.query<{ ok: number }>("SELECT 1 AS ok");
    expect(rows).toEqual([{ ok: 1 }]);
  });
});
