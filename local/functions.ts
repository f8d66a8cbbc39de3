/**
 * Lambda functions of the local runtime. Each function runs its bundle (index.mjs, built
 * as for deployment) in worker threads: one thread is one execution environment, running
 * one invocation at a time, importing the bundle once (its cold start). Up to
 * `maxConcurrency` environments per function; further invocations wait for a free one.
 * The timeout is enforced by terminating the thread, as Lambda ends the environment; the
 * next invocation starts cold. The memory size caps the thread's heap.
 */
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Worker } from "node:worker_threads";

const WORKER_FILE = path.join(__dirname, "function-worker.mjs");
/** Lambda's limit on an on-demand init phase. */
const INIT_TIMEOUT_MS = 10_000;

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
  worker: Worker;
  generation: number;
  initialized: boolean;
  busy: boolean;
  dead: boolean;
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
    const worker = new Worker(WORKER_FILE, {
      workerData: { bundleFile: this.bundleFile, exportName: this.config.exportName },
      env: { ...this.config.environment, LAMBDA_TASK_ROOT: path.dirname(this.bundleFile) },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, this.config.memorySize) },
    });
    const environment: Environment = { worker, generation: this.generation, initialized: false, busy: false, dead: false };
    const prefix = `  ${this.config.name} |`;
    for (const stream of [worker.stdout, worker.stderr] as Readable[]) {
      createInterface({ input: stream }).on("line", (line) => this.log(`${prefix} ${line}`));
    }
    worker.on("exit", () => {
      environment.dead = true;
      this.environments = this.environments.filter((e) => e !== environment);
      if (!environment.busy) this.waiting.shift()?.();
    });
    worker.on("error", () => { environment.dead = true; });
    worker.unref();
    this.environments.push(environment);
    return environment;
  }

  private retire(environment: Environment): Promise<number> {
    environment.dead = true;
    this.environments = this.environments.filter((e) => e !== environment);
    return environment.worker.terminate();
  }

  private run(environment: Environment, event: unknown, requestId: string, started: number, cold: boolean): Promise<InvokeResult> {
    const { worker } = environment;
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
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        resolve({ timedOut: false, ...result, cold, initMs, requestId, durationMs: performance.now() - started - (initMs ?? 0) });
      };
      const timeout = (ms: number, phase: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          environment.dead = true;
          void worker.terminate();
          const seconds = (ms / 1000).toFixed(2);
          this.log(`  ${config.name} | ${requestId} Task timed out after ${seconds} seconds${phase}`);
          finish({ timedOut: true, error: { errorType: "Sandbox.Timedout", errorMessage: `${requestId} Task timed out after ${seconds} seconds${phase}` } });
        }, ms);
      };
      const onMessage = (message: any) => {
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
      const onError = (error: Error & { code?: string }) => {
        environment.dead = true;
        const outOfMemory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
        finish({ error: { errorType: outOfMemory ? "Runtime.OutOfMemory" : "Runtime.ExitError", errorMessage: outOfMemory ? `Runtime exited: out of memory (${config.memorySize} MB)` : `Runtime exited with error: ${error.message}` } });
      };
      const onExit = (code: number) => finish({ error: { errorType: "Runtime.ExitError", errorMessage: `Runtime exited with code ${code}` } });
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      if (cold) timeout(INIT_TIMEOUT_MS, " (init)");
      else timeout(config.timeoutSeconds * 1000, "");
      worker.postMessage({ type: "invoke", id: requestId, event, context, timeoutMs: config.timeoutSeconds * 1000 });
    });
  }
}
