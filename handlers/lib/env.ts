/**
 * Read a variable of the function's environment contract. Called at module scope, so a
 * function deployed without it fails its cold start loudly instead of serving requests.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === "") {
    throw new Error(`Environment variable ${name} is required but not set`);
  }
  return value;
}

/** `text` as a positive integer written in decimal (surrounding blanks ignored), or undefined. */
export function positiveInteger(text: string): number | undefined {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return /^[0-9]+$/.test(trimmed) && Number.isSafeInteger(value) && value >= 1 ? value : undefined;
}

/** A variable of the environment contract that holds a positive integer (a count, minutes). */
export function requirePositiveIntegerEnv(name: string): number {
  const text = requireEnv(name);
  const value = positiveInteger(text);
  if (value === undefined) throw new Error(`Environment variable ${name} must be a positive integer, got "${text.trim()}"`);
  return value;
}
