/** Shared by the local runtime tests: quiet logs that tests can read, and polling. */
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** A log sink that keeps lines (set LOCAL_RUNTIME_LOGS=1 to also print them). */
export function captureLog(): { lines: string[]; times: number[]; log: (line: string) => void } {
  const lines: string[] = [];
  const times: number[] = [];
  return { lines, times, log: (line) => { lines.push(line); times.push(Date.now()); if (process.env.LOCAL_RUNTIME_LOGS) console.log(line); } };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
