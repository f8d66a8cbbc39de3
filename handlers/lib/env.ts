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

/** A variable of the environment contract that holds a positive integer (a count, minutes). */
export function requirePositiveIntegerEnv(name: string): number {
  const text = requireEnv(name).trim();
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`Environment variable ${name} must be a positive integer, got "${text}"`);
  }
  return value;
}
