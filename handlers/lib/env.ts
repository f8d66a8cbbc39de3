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
