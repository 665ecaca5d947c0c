/** Flag and conflict-domain keys. */
export const KEY_PATTERN = /^[a-z][a-z0-9_.-]*$/;
export const MAX_KEY_LENGTH = 128;

export function keyProblem(key: string): string | undefined {
  if (key === "") return "is required";
  if (key.length > MAX_KEY_LENGTH) return `must be at most ${MAX_KEY_LENGTH} characters`;
  if (!KEY_PATTERN.test(key)) return `must match ${KEY_PATTERN.source}`;
  return undefined;
}
