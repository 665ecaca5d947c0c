/**
 * NATS subject matching: tokens are separated by `.`, `*` matches exactly one token and `>`
 * (last token only) matches one or more remaining tokens. Hand-written because the NATS client
 * keeps its matcher internal, and the in-process bus must route exactly as the server does.
 */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === ">") return i === f.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return f.length === s.length;
}

export function matchesAny(filters: readonly string[], subject: string): boolean {
  return filters.some((f) => subjectMatches(f, subject));
}
