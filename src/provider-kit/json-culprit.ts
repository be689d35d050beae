/** Which value of an attempt JSON refused, for the message of a provider that sends attempts as JSON. */

/** ` (the input)` or ` (dependency "x")`: the first value JSON cannot write, or "" when none is found. */
export function jsonCulprit(input: unknown, deps: unknown): string {
  const fails = (value: unknown) => {
    try {
      JSON.stringify(value);
      return false;
    } catch {
      return true;
    }
  };
  if (fails(input)) return " (the input)";
  for (const [id, value] of Object.entries((deps ?? {}) as Record<string, unknown>)) if (fails(value)) return ` (dependency "${id}")`;
  return "";
}
