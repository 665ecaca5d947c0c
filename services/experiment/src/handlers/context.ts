import type { HandlerContext } from "@connectrpc/connect";
import { actorOf } from "@lotty/platform/auth";
import type { Bus } from "@lotty/platform/bus";
import type { Db, Queryable } from "@lotty/platform/db";
import type { Logger } from "@lotty/platform/log";
import { ActorKind } from "@lotty/proto/common";
import type { StoredActor } from "../store/audit.js";

export interface Deps {
  db: Db;
  bus: Bus;
  logger: Logger;
  clock: () => Date;
}

/** An event to publish once the transaction that produced it has committed. */
export interface PendingEvent {
  subject: string;
  send(bus: Bus): Promise<void>;
}

const KINDS = { user: ActorKind.USER, service: ActorKind.SERVICE, system: ActorKind.SYSTEM } as const;

export function callerOf(ctx: HandlerContext): StoredActor {
  const a = actorOf(ctx);
  return { id: a.id, kind: KINDS[a.kind] };
}

/**
 * Runs fn in one transaction, then publishes what it queued. Events go out only after commit, so
 * nobody hears of a change that was rolled back. A failed publish is logged and not retried here:
 * the decision service also resyncs the ruleset periodically (GetRuleset if_newer_than), so a lost
 * event delays a change rather than losing it.
 */
export async function inTransaction<T>(deps: Deps, fn: (tx: Queryable, events: PendingEvent[]) => Promise<T>): Promise<T> {
  const events: PendingEvent[] = [];
  const out = await deps.db.transaction((tx) => fn(tx, events));
  for (const e of events) {
    try {
      await e.send(deps.bus);
    } catch (err) {
      deps.logger.warn({ err, subject: e.subject }, "event publish failed after commit; consumers catch up on resync");
    }
  }
  return out;
}
