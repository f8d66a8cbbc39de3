/**
 * Asynchronous invocation, as Lambda runs it for SNS, EventBridge, the Scheduler and S3:
 * the event is queued and the call returns at once; the function runs; on an error (a
 * thrown error, a timeout, a crash) Lambda retries up to `maximumRetryAttempts` times,
 * waiting 1 minute before the first retry and 2 minutes before the second, and gives up
 * on an event older than `maximumEventAgeInSeconds`. Then the on-failure destination
 * receives Lambda's invocation record (`requestContext`, `requestPayload`,
 * `responseContext`, `responsePayload`); without one the event is dropped, which Lambda
 * counts in AsyncEventsDropped. A success goes to the on-success destination when there
 * is one.
 *
 * Locally time runs faster for this: every wait and every age is divided by `timeScale`
 * (default 60, so the waits are 1 s and 2 s, and an event's 60 s of age pass in 1 s).
 * The clock is injectable so tests drive it without waiting.
 */
import { randomUUID } from "node:crypto";
import { LAMBDA_ASYNC_DEFAULTS } from "./async-model";
import type { InvokeResult } from "./functions";

/** Lambda's waits before each retry of an asynchronous event, in seconds (Lambda developer guide, "Asynchronous invocation"). */
export const LAMBDA_RETRY_DELAYS_SECONDS = [60, 120] as const;
/** How much faster the local runtime's asynchronous time runs than AWS's. */
export const LOCAL_ASYNC_TIME_SCALE = 60;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

export interface AsyncInvokeSettings {
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  onFailure?: string;
  onSuccess?: string;
}

export type Condition = "Success" | "RetriesExhausted" | "EventAgeExceeded";

/** What Lambda sends to a destination (Lambda developer guide, "Invocation records"). */
export interface InvocationRecord {
  version: "1.0";
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: Condition; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  responsePayload: unknown;
}

/** Sends an invocation record to a destination ARN (queue, topic, function or bus). */
export type DeliverToDestination = (destinationArn: string, record: InvocationRecord, condition: Condition) => Promise<void>;

export interface AsyncTarget {
  /** For log lines: the function's logical name. */
  name: string;
  /** The ARN the source invoked (function or alias). */
  arn: string;
  invoke(event: unknown, requestId: string): Promise<InvokeResult>;
}

export interface AsyncOutcome {
  requestId: string;
  condition: Condition;
  attempts: number;
  /** The destination the record went to, or undefined when the event was dropped (or succeeded with no on-success destination). */
  destination?: string;
}

export interface AsyncInvokerOptions {
  settings?: Partial<AsyncInvokeSettings>;
  deliver: DeliverToDestination;
  clock?: Clock;
  timeScale?: number;
  log?: (line: string) => void;
  onOutcome?: (outcome: AsyncOutcome) => void;
}

export class AsyncInvoker {
  private readonly settings: AsyncInvokeSettings;
  private readonly clock: Clock;
  private readonly timeScale: number;
  private readonly inFlight = new Set<Promise<AsyncOutcome>>();
  private stopped = false;

  constructor(private readonly target: AsyncTarget, private readonly options: AsyncInvokerOptions) {
    this.settings = {
      maximumRetryAttempts: options.settings?.maximumRetryAttempts ?? LAMBDA_ASYNC_DEFAULTS.maximumRetryAttempts,
      maximumEventAgeSeconds: options.settings?.maximumEventAgeSeconds ?? LAMBDA_ASYNC_DEFAULTS.maximumEventAgeSeconds,
      onFailure: options.settings?.onFailure,
      onSuccess: options.settings?.onSuccess,
    };
    this.clock = options.clock ?? systemClock;
    this.timeScale = options.timeScale ?? LOCAL_ASYNC_TIME_SCALE;
  }

  /** Queues an event, as Invoke with InvocationType Event does (status 202); returns its request id. */
  invokeAsync(event: unknown): { requestId: string; done: Promise<AsyncOutcome> } {
    const requestId = randomUUID();
    const done = this.run(event, requestId, this.clock.now());
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return { requestId, done };
  }

  /** Resolves when every queued event has reached its end. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get idle(): boolean {
    return this.inFlight.size === 0;
  }

  /** Stops retrying: events waiting for a retry end without one. */
  stop(): void {
    this.stopped = true;
  }

  private async run(event: unknown, requestId: string, queuedAt: number): Promise<AsyncOutcome> {
    const { name } = this.target;
    const maxAgeMs = (this.settings.maximumEventAgeSeconds * 1000) / this.timeScale;
    const log = this.options.log ?? (() => undefined);
    let attempts = 0;
    let last: InvokeResult | undefined;
    let condition: Condition;
    for (;;) {
      if (this.clock.now() - queuedAt > maxAgeMs) {
        condition = "EventAgeExceeded";
        break;
      }
      attempts += 1;
      last = await this.target.invoke(event, requestId).catch((error: Error): InvokeResult => ({
        error: { errorType: "ServiceException", errorMessage: error.message }, timedOut: false, cold: false, durationMs: 0, requestId,
      }));
      if (!last.error) {
        condition = "Success";
        break;
      }
      if (attempts > this.settings.maximumRetryAttempts || this.stopped) {
        condition = "RetriesExhausted";
        break;
      }
      const waitSeconds = LAMBDA_RETRY_DELAYS_SECONDS[Math.min(attempts - 1, LAMBDA_RETRY_DELAYS_SECONDS.length - 1)];
      log(`ASYNC ${name}: event ${requestId} failed (${last.error.errorType}: ${last.error.errorMessage}); retry ${attempts} of ${this.settings.maximumRetryAttempts} in ${waitSeconds} s (locally ${(waitSeconds / this.timeScale).toFixed(1)} s)`);
      await this.clock.sleep((waitSeconds * 1000) / this.timeScale);
    }

    const destination = condition === "Success" ? this.settings.onSuccess : this.settings.onFailure;
    const outcome: AsyncOutcome = { requestId, condition, attempts, destination };
    if (condition !== "Success") {
      const why = condition === "EventAgeExceeded" ? `older than maximumEventAgeInSeconds ${this.settings.maximumEventAgeSeconds} s` : `failed ${attempts} time(s)`;
      if (destination) log(`ASYNC ${name}: event ${requestId} ${why} (${condition}); sent to the on-failure destination ${destination}`);
      else log(`ASYNC ${name}: event ${requestId} ${why} (${condition}) and dropped: the function has no on-failure destination (counted in AsyncEventsDropped)`);
    }
    if (destination) {
      const record = invocationRecord(this.target.arn, requestId, condition, attempts, event, last, this.clock.now());
      await this.options.deliver(destination, record, condition).catch((error: Error) => {
        log(`ASYNC ${name}: event ${requestId} could not be sent to ${destination}: ${error.message}`);
        outcome.destination = undefined;
      });
    }
    this.options.onOutcome?.(outcome);
    return outcome;
  }
}

/** Lambda's invocation record for an event's last attempt. */
export function invocationRecord(functionArn: string, requestId: string, condition: Condition, attempts: number, event: unknown, last: InvokeResult | undefined, now: number): InvocationRecord {
  // An unqualified ARN ran $LATEST; a qualified one (alias) names what ran.
  const qualified = functionArn.split(":").length > 7 ? functionArn : `${functionArn}:$LATEST`;
  return {
    version: "1.0",
    timestamp: new Date(now).toISOString(),
    requestContext: { requestId, functionArn: qualified, condition, approximateInvokeCount: attempts },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: "$LATEST", ...(last?.error ? { functionError: "Unhandled" } : {}) },
    responsePayload: last?.error ?? last?.payload ?? null,
  };
}
