export { BUCKETS, bucket, inAllocation } from "./bucket.js";
export { pickPrepared, pickVariant, prepareVariants } from "./variants.js";
export type { PreparedVariants, WeightedVariant } from "./variants.js";
