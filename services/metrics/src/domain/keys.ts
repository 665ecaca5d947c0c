/**
 * One string for a tuple of strings, as a Map key. Each part is length-prefixed, so no part can
 * fake a separator (subject ids are free text). Ingest builds a few keys per event: this costs a
 * fraction of JSON.stringify on an array (bench/metrics/ingest-profile.ts).
 */
export function tupleKey(...parts: string[]): string {
  let key = "";
  for (const p of parts) key += `${p.length}:${p}`;
  return key;
}
