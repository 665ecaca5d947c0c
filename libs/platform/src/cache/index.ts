export type { Cache } from "./types.js";
export { createRedisCache, type RedisCacheOptions } from "./redis.js";
export { createMemoryCache, type MemoryCacheOptions } from "./memory.js";
