/**
 * One JSON line per event on stdout, which Lambda sends to the function's log group. Not
 * Powertools' Logger: the runner and hooks are bundled at the user's `pulumi up`, and this
 * keeps them to the two SDK clients the package depends on.
 */
export function log(level: "INFO" | "WARN" | "ERROR", message: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ level, message, timestamp: new Date().toISOString(), ...fields }));
}
