/**
 * Lambda functions of the local runtime. Each function runs its bundle (index.mjs, built
 * as for deployment) in child processes of the Node its runtime names (nodejs24.x: Node
 * 24, when tools/node-toolchain.cjs has it cached, else this process's Node): one process
 * is one execution environment, running one invocation at a time, importing the bundle
 * once (its cold start). Up to `maxConcurrency` environments per function; further
 * invocations wait for a free one. The timeout is enforced by killing the process, as
 * Lambda ends the environment; the next invocation starts cold. The memory size caps the
 * process's heap.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { cachedNode, fetchCommand, majorOf } from "../tools/node-toolchain.cjs";

const ENVIRONMENT_FILE = path.join(__dirname, "function-environment.mjs");
/** Lambda's limit on an on-demand init phase. */
const INIT_TIMEOUT_MS = 10_000;
/** What V8 prints when a process dies for lack of heap. */
const OUT_OF_MEMORY = /JavaScript heap out of memory/;

/** The Node that runs a function's environments. */
export interface FunctionNode {
  /** The function's runtime, e.g. `nodejs24.x`. */
  runtime: string;
  path: string;
  version: string;
  /** The runtime's major is not cached here: this is the local runtime's own Node instead. */
  substitute: boolean;
}

/** The Node of a runtime's major when it is already cached (no download), else this process's Node. */
export function nodeForRuntime(runtime: string): FunctionNode {
  const cached = cachedNode(majorOf(runtime));
  return cached ? { runtime, ...cached, substitute: false } : { runtime, path: process.execPath, version: process.version.slice(1), substitute: true };
}

/** One line per runtime for the banner: which Node runs its functions, and how to get the right one when it is missing. */
export function describeNodes(functions: Iterable<LocalFunction>): string[] {
  const byRuntime = new Map<string, { node: FunctionNode; names: string[] }>();
  for (const fn of functions) {
    const entry = byRuntime.get(fn.config.node.runtime) ?? { node: fn.config.node, names: [] };
    entry.names.push(fn.config.name);
    byRuntime.set(fn.config.node.runtime, entry);
  }
  return [...byRuntime.values()].map(({ node, names }) => {
    const major = majorOf(node.runtime);
    const runs = `${node.runtime} (${names.join(", ")}) on Node ${node.version}`;
    return node.substitute
      ? `Node: ${runs} instead: Node ${major} is not cached here; \`${fetchCommand(major)}\` fetches it`
      : `Node: ${runs}`;
  });
}

export interface FunctionConfig {
  /** The logical name (the SecureFunction's), e.g. `orders-api-create-order`. */
  name: string;
  /** The physical function name, e.g. `serverless-orders-dev-orders-api-create-order`. */
  functionName: string;
  arn: string;
  exportName: string;
  timeoutSeconds: number;
  memorySize: number;
  /** The function's environment, as the Lambda service would give it (see runtime.ts). */
  environment: Record<string, string>;
  maxConcurrency: number;
  /** The Node its environments run on (see nodeForRuntime). */
  node: FunctionNode;
}

export interface InvokeResult {
  /** The handler's return value, parsed, when it succeeded. */
  payload?: unknown;
  /** Lambda's error shape, when it failed (handler error, init error, timeout, crash). */
  error?: { errorType: string; errorMessage: string; trace?: string[] };
  timedOut: boolean;
  cold: boolean;
  initMs?: number;
  durationMs: number;
  requestId: string;
}

export type LogSink = (line: string) => void;

interface Environment {
  process: ChildProcess;
  /** Resolves when the process has exited and its output is read. */
  closed: Promise<void>;
  generation: number;
  initialized: boolean;
  busy: boolean;
  dead: boolean;
  outOfMemory: boolean;
}

export class LocalFunction {
  private environments: Environment[] = [];
  private waiting: Array<() => void> = [];
  private generation = 0;
  private bundleFile: string;
  private closed = false;

  constructor(readonly config: FunctionConfig, bundleFile: string, private readonly log: LogSink) {
    this.bundleFile = bundleFile;
  }

  /** New invocations run the new bundle in fresh environments; running ones finish on the old. */
  replaceCode(bundleFile: string): void {
    this.bundleFile = bundleFile;
    this.generation += 1;
    for (const environment of this.environments.filter((e) => !e.busy)) this.retire(environment);
  }

  async invoke(event: unknown, requestId: string = randomUUID()): Promise<InvokeResult> {
    if (this.closed) throw new Error(`${this.config.name} is stopped`);
    const environment = await this.acquire();
    const started = performance.now();
    const cold = !environment.initialized;
    try {
      return await this.run(environment, event, requestId, started, cold);
    } finally {
      environment.busy = false;
      if (environment.dead || environment.generation !== this.generation || this.closed) this.retire(environment);
      this.waiting.shift()?.();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.environments.map((environment) => this.retire(environment)));
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async acquire(): Promise<Environment> {
    for (;;) {
      if (this.closed) throw new Error(`${this.config.name} is stopped`);
      const idle = this.environments.find((e) => !e.busy && !e.dead && e.generation === this.generation);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.environments.length < this.config.maxConcurrency) {
        const environment = this.spawn();
        environment.busy = true;
        return environment;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private spawn(): Environment {
    const child = fork(ENVIRONMENT_FILE, [this.bundleFile, this.config.exportName], {
      execPath: this.config.node.path,
      // Not this process's flags (tsx's loader): the bundle runs on plain Node, as on Lambda.
      execArgv: [`--max-old-space-size=${Math.max(64, this.config.memorySize)}`],
      env: { ...this.config.environment, LAMBDA_TASK_ROOT: path.dirname(this.bundleFile) },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const environment: Environment = { process: child, closed, generation: this.generation, initialized: false, busy: false, dead: false, outOfMemory: false };
    const prefix = `  ${this.config.name} |`;
    for (const stream of [child.stdout, child.stderr] as Readable[]) {
      createInterface({ input: stream }).on("line", (line) => {
        if (OUT_OF_MEMORY.test(line)) environment.outOfMemory = true;
        this.log(`${prefix} ${line}`);
      });
    }
    child.once("close", () => {
      environment.dead = true;
      this.environments = this.environments.filter((e) => e !== environment);
      if (!environment.busy) this.waiting.shift()?.();
    });
    child.on("error", () => { environment.dead = true; });
    // An idle environment alone does not keep the dev process (or a test run) alive; stop() ends them.
    child.unref();
    child.channel?.unref();
    for (const stream of [child.stdout, child.stderr] as Array<Readable & { unref?: () => void }>) stream.unref?.();
    this.environments.push(environment);
    return environment;
  }

  private retire(environment: Environment): Promise<void> {
    environment.dead = true;
    this.environments = this.environments.filter((e) => e !== environment);
    environment.process.kill("SIGKILL");
    return environment.closed;
  }

  private run(environment: Environment, event: unknown, requestId: string, started: number, cold: boolean): Promise<InvokeResult> {
    const { process: child } = environment;
    const { config } = this;
    const context = {
      functionName: config.functionName,
      functionVersion: "$LATEST",
      invokedFunctionArn: config.arn,
      memoryLimitInMB: String(config.memorySize),
      awsRequestId: requestId,
      logGroupName: config.environment.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: config.environment.AWS_LAMBDA_LOG_STREAM_NAME,
    };
    return new Promise<InvokeResult>((resolve) => {
      let initMs: number | undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = (result: Omit<InvokeResult, "cold" | "durationMs" | "requestId" | "timedOut"> & { timedOut?: boolean }) => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("error", onError);
        child.off("close", onClose);
        resolve({ timedOut: false, ...result, cold, initMs, requestId, durationMs: performance.now() - started - (initMs ?? 0) });
      };
      const timeout = (ms: number, phase: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          environment.dead = true;
          child.kill("SIGKILL");
          const seconds = (ms / 1000).toFixed(2);
          this.log(`  ${config.name} | ${requestId} Task timed out after ${seconds} seconds${phase}`);
          finish({ timedOut: true, error: { errorType: "Sandbox.Timedout", errorMessage: `${requestId} Task timed out after ${seconds} seconds${phase}` } });
        }, ms);
      };
      const onMessage = (message: any) => {
        if (message.type === "fatal") {
          environment.dead = true;
          finish({ error: { errorType: "Runtime.ExitError", errorMessage: `Runtime exited with error: ${message.message}` } });
          return;
        }
        if (message.id !== requestId) return;
        if (message.type === "started") {
          environment.initialized = true;
          initMs = message.initMs;
          timeout(config.timeoutSeconds * 1000, "");
        } else if (message.type === "result") {
          if (message.initFailed) environment.dead = true;
          if (message.error) finish({ error: message.error });
          else {
            try {
              finish({ payload: JSON.parse(message.payload) });
            } catch (error) {
              finish({ error: { errorType: "Runtime.InvalidResponse", errorMessage: (error as Error).message } });
            }
          }
        }
      };
      const onError = (error: Error) => {
        environment.dead = true;
        finish({ error: { errorType: "Runtime.ExitError", errorMessage: `Runtime exited with error: ${error.message}` } });
      };
      // On close, not exit: by then V8's out-of-memory report on stderr has been read.
      const onClose = (code: number | null, signal: NodeJS.Signals | null) => finish(environment.outOfMemory
        ? { error: { errorType: "Runtime.OutOfMemory", errorMessage: `Runtime exited: out of memory (${config.memorySize} MB)` } }
        : { error: { errorType: "Runtime.ExitError", errorMessage: code === null ? `Runtime exited with signal ${signal}` : `Runtime exited with code ${code}` } });
      child.on("message", onMessage);
      child.on("error", onError);
      child.on("close", onClose);
      if (cold) timeout(INIT_TIMEOUT_MS, " (init)");
      else timeout(config.timeoutSeconds * 1000, "");
      child.send({ type: "invoke", id: requestId, event, context, timeoutMs: config.timeoutSeconds * 1000 });
    });
  }
}
