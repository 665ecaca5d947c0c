import { fromBinary } from "@bufbuild/protobuf";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ExposureBatchSchema } from "@lotty/proto/events";

/**
 * Exposures a JetStream stream holds on an ExposureBatch subject: every stored batch is read and
 * its exposures counted by decision id, so one counted twice would show as a difference.
 */
export async function storedExposures(nc: NatsConnection, stream: string, subject: string): Promise<{ exposures: number; distinct: number; batches: number }> {
  const info = await (await jetstreamManager(nc)).streams.info(stream, { subjects_filter: subject });
  const batches = info.state.subjects?.[subject] ?? 0;
  const ids = new Set<string>();
  let exposures = 0;
  if (batches > 0) {
    const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject });
    for (let read = 0; read < batches; ) {
      const msgs = await consumer.fetch({ max_messages: Math.min(1_000, batches - read), expires: 5_000 });
      let got = 0;
      for await (const m of msgs) {
        const batch = fromBinary(ExposureBatchSchema, m.data).exposures;
        for (const x of batch) ids.add(x.decisionId);
        exposures += batch.length;
        got++;
      }
      if (got === 0) throw new Error(`read ${read} of ${batches} exposure batches from ${stream}, then nothing`);
      read += got;
    }
  }
  return { exposures, distinct: ids.size, batches };
}
