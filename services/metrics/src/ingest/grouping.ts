/**
 * Stores batches that arrive while earlier ones are being stored in shared transactions: at most
 * `slots` run at once; batches arriving meanwhile wait and then go together, up to `maxItems`
 * items per transaction (a batch larger than that goes alone). A transaction's fixed cost
 * (statements, locks, commit) is then shared by several messages (measured in bench/metrics);
 * when nothing else waits, a batch is stored at once, without added latency.
 *
 * Each caller's promise settles with its transaction: when a shared transaction fails, every
 * batch in it fails (and its message is redelivered; ingestion is idempotent).
 */
export function groupingStore<T>(store: (items: T[]) => Promise<void>, opts: { slots: number; maxItems: number }): (items: T[]) => Promise<void> {
  const waiting: { items: T[]; settle: (err?: unknown) => void }[] = [];
  let running = 0;

  const next = () => {
    while (running < opts.slots && waiting.length > 0) {
      const group = [waiting.shift()!];
      let size = group[0].items.length;
      while (waiting.length > 0 && size + waiting[0].items.length <= opts.maxItems) {
        size += waiting[0].items.length;
        group.push(waiting.shift()!);
      }
      running += 1;
      Promise.resolve()
        .then(() => store(group.flatMap((g) => g.items)))
        .then(
          () => group.forEach((g) => g.settle()),
          (err: unknown) => group.forEach((g) => g.settle(err ?? new Error("store failed"))),
        )
        .finally(() => {
          running -= 1;
          next();
        });
    }
  };

  return (items) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ items, settle: (err) => (err === undefined ? resolve() : reject(err)) });
      next();
    });
}
