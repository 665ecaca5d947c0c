// Reads a service's /metrics and turns the difference of two scrapes of a histogram into a quantile.

export type Scrape = string;

export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics: ${res.status}`);
  return res.text();
}

/** Sum of every sample of `name` whose labels include all of `match` (e.g. a counter over reasons). */
export function sample(text: Scrape, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = m[2] ?? "";
    if (Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** Cumulative bucket counts (le → count) of one histogram series. */
function buckets(text: Scrape, name: string, match: Record<string, string>): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const labels = line.slice(line.indexOf("{"), line.indexOf("}") + 1);
    if (!Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`))) continue;
    const le = /le="([^"]+)"/.exec(labels)![1];
    const bound = le === "+Inf" ? Infinity : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return out;
}

export interface HistogramDiff {
  count: number;
  /** Quantile in seconds, linearly interpolated inside its bucket (as PromQL's histogram_quantile). */
  quantile(q: number): number;
  /** Share of observations at or below `le` (a bucket bound). */
  shareAtMost(le: number): number;
}

export function histogramDiff(before: Scrape, after: Scrape, name: string, match: Record<string, string> = {}): HistogramDiff {
  const a = buckets(before, name, match);
  const b = buckets(after, name, match);
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const cum = bounds.map((le) => (b.get(le) ?? 0) - (a.get(le) ?? 0));
  const count = cum.at(-1) ?? 0;
  return {
    count,
    quantile(q) {
      const rank = q * count;
      const i = cum.findIndex((c) => c >= rank);
      if (i < 0 || count === 0) return NaN;
      const hi = bounds[i];
      if (hi === Infinity) return bounds[i - 1] ?? NaN;
      const lo = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : cum[i - 1];
      const inBucket = cum[i] - below;
      return inBucket === 0 ? hi : lo + ((hi - lo) * (rank - below)) / inBucket;
    },
    shareAtMost(le) {
      const i = bounds.indexOf(le);
      return i < 0 || count === 0 ? NaN : cum[i] / count;
    },
  };
}
