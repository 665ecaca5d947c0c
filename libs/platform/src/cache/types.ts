/** Shared cache (Redis in production, memory in the embedded default). Values are strings. */
export interface Cache {
  get(key: string): Promise<string | null>;
  mget(keys: readonly string[]): Promise<(string | null)[]>;
  set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void>;
  del(key: string): Promise<void>;
  hgetall(key: string): Promise<Record<string, string>>;
  hset(key: string, fields: Record<string, string>): Promise<void>;
  /** Sets field only when absent; returns true when this call set it (first writer wins). */
  hsetnx(key: string, field: string, value: string): Promise<boolean>;
  expire(key: string, ttlMs: number): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
