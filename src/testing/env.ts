/**
 * Reads an environment variable on Node or Deno without importing either runtime's API, so the
 * testing kit stays runtime-neutral (Deno needs --allow-env; without it the variable reads as unset).
 */
export function readEnv(name: string): string | undefined {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined> };
    Deno?: { env?: { get(name: string): string | undefined } };
  };
  try {
    const value = g.process?.env?.[name] ?? g.Deno?.env?.get(name);
    return value === "" ? undefined : value;
  } catch {
    return undefined; // Deno without --allow-env
  }
}
