/**
 * How long the current event-loop turn has been busy: the first call seen in a turn starts the
 * clock and a setImmediate (which runs once the turn's I/O callbacks are done) stops it. Every
 * request handled later in the same turn was already waiting when the turn began, so this is a
 * lower bound on its queueing delay. It matters because Node often answers a whole burst of
 * requests in one turn, one after another, with never more than one of them "in flight": the
 * queue is the event loop itself, and in-flight counts cannot see it. Nothing is scheduled
 * while no calls arrive.
 */
export class LoopTurn {
  private startedAt = 0;
  private open = false;

  elapsedMs(now = performance.now()): number {
    if (!this.open) {
      this.open = true;
      this.startedAt = now;
      setImmediate(() => (this.open = false));
    }
    return now - this.startedAt;
  }
}
