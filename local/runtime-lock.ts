/**
 * One local runtime per work folder, so per stack under `npm run dev`: a second one would
 * delete the first's bundles as it starts (the first then answers 500) and its state file
 * as it stops. The lock is a JSON file naming the process that holds it, placed with a hard
 * link from a fully written temporary file: the link fails when a lock exists, and no one
 * ever reads a half-written lock. A lock whose process is gone (killed, crashed) is stale
 * and taken over.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface LockHolder {
  pid: number;
  stack: string;
  startedAt: string;
  /** The first HTTP API's URL, once it listens. */
  url?: string;
  /** Tells this holder's lock from a later one of the same process. */
  token: string;
}

/** Attempts to place the lock before giving up; each failed one removed a stale lock. */
const MAX_ATTEMPTS = 5;

export class RuntimeLock {
  private constructor(readonly file: string, private holder: LockHolder) {}

  /** Takes the lock for `stack`, or throws an Error naming the live holder and how to stop it. */
  static acquire(file: string, stack: string): RuntimeLock {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const holder: LockHolder = { pid: process.pid, stack, startedAt: new Date().toISOString(), token: randomUUID() };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (place(file, holder, (temporary) => fs.linkSync(temporary, file))) return new RuntimeLock(file, holder);
      const current = readLock(file);
      if (current === "missing") continue;
      if (current !== "unreadable" && isAlive(current.pid)) throw new Error(refusal(file, current));
      // Stale: remove it, unless another starter has taken it over since it was read.
      if (sameLock(readLock(file), current)) fs.rmSync(file, { force: true });
    }
    throw new Error(`Could not take the local runtime lock ${file} after ${MAX_ATTEMPTS} attempts; another runtime of stack "${stack}" is starting.`);
  }

  /** Records the URL the runtime serves, for the message a second start prints. */
  recordUrl(url: string | undefined): void {
    this.holder = { ...this.holder, url };
    place(this.file, this.holder, (temporary) => fs.renameSync(temporary, this.file));
  }

  /** Removes the lock if it is still this holder's. */
  release(): void {
    const current = readLock(this.file);
    if (typeof current === "object" && current.token === this.holder.token) fs.rmSync(this.file, { force: true });
  }
}

/** Writes `holder` to a temporary file and moves it into place with `put`; false when the lock exists. */
function place(file: string, holder: LockHolder, put: (temporary: string) => void): boolean {
  const temporary = `${file}.${holder.pid}.${randomUUID()}`;
  fs.writeFileSync(temporary, JSON.stringify(holder, null, 2));
  try {
    put(temporary);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

function readLock(file: string): LockHolder | "missing" | "unreadable" {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw error;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) && holder.pid > 0 ? holder : "unreadable";
  } catch {
    return "unreadable";
  }
}

function sameLock(a: ReturnType<typeof readLock>, b: ReturnType<typeof readLock>): boolean {
  return typeof a === "object" && typeof b === "object" ? a.token === b.token : a === b;
}

/** Signal 0 checks that the process exists without touching it; EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function refusal(file: string, holder: LockHolder): string {
  const serving = holder.url ? `, serving ${holder.url}` : "";
  return `Stack "${holder.stack}" already runs locally in process ${holder.pid} (since ${holder.startedAt}${serving}); `
    + `a second runtime of one stack would delete the first one's bundles, so this one does not start. `
    + `Use that one, stop it (Ctrl-C in its terminal, or kill ${holder.pid}), or run another stack: npm run dev -- <stack>. `
    + `(Lock: ${path.relative(process.cwd(), file) || file}; a start takes it over once process ${holder.pid} is gone.)`;
}
