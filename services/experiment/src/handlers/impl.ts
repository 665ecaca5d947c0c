import type { ServiceImpl } from "@connectrpc/connect";
import type { ExperimentService } from "@lotty/proto/experiment";

/** The full service implementation; each handler file provides a slice of it. */
export type Impl = ServiceImpl<typeof ExperimentService>;
export type Slice<K extends keyof Impl> = Pick<Impl, K>;
