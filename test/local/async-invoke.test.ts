/**
 * Asynchronous invocation's rules (retries, waits, event age, destinations, drops), on
 * an injected clock and a function stand-in whose outcome each test sets; the real
 * functions and clients run in async-sources.test.ts.
 */
import { expect } from "chai";
import { AsyncInvoker, type Condition, type InvocationRecord } from "../../local/async-invoke";
import type { InvokeResult } from "../../local/functions";

const ARN = "arn:aws:lambda:eu-west-1:123456789012:function:reports";

function harness(outcomes: Array<"ok" | "error">, settings: ConstructorParameters<typeof AsyncInvoker>[1]["settings"] = {}) {
  let now = 0;
  const sleeps: number[] = [];
  const delivered: Array<{ destination: string; record: InvocationRecord; condition: Condition }> = [];
  const logs: string[] = [];
  let calls = 0;
  const invoker = new AsyncInvoker({
    name: "reports", arn: ARN,
    invoke: async (_event, requestId): Promise<InvokeResult> => {
      const outcome = outcomes[Math.min(calls++, outcomes.length - 1)];
      return outcome === "ok"
        ? { payload: { done: true }, timedOut: false, cold: false, durationMs: 1, requestId }
        : { error: { errorType: "Error", errorMessage: "boom", trace: ["Error: boom"] }, timedOut: false, cold: false, durationMs: 1, requestId };
    },
  }, {
    settings,
    clock: { now: () => now, sleep: async (ms) => { sleeps.push(ms); now += ms; } },
    deliver: async (destination, record, condition) => { delivered.push({ destination, record, condition }); },
    log: (line) => logs.push(line),
  });
  return { invoker, sleeps, delivered, logs, calls: () => calls };
}

describe("local runtime: asynchronous invocation", () => {
  it("retries twice by default, waiting AWS's 1 and 2 minutes scaled down 60 times, then drops the event and says so", async () => {
    const { invoker, sleeps, delivered, logs, calls } = harness(["error"]);
    const outcome = await invoker.invokeAsync({ n: 1 }).done;
    expect(outcome).to.include({ condition: "RetriesExhausted", attempts: 3, destination: undefined });
    expect(calls()).to.equal(3);
    expect(sleeps).to.deep.equal([1000, 2000]);
    expect(delivered).to.deep.equal([]);
    expect(logs.at(-1)).to.match(/^ASYNC reports: event [0-9a-f-]{36} failed 3 time\(s\) \(RetriesExhausted\) and dropped: the function has no on-failure destination \(counted in AsyncEventsDropped\)$/);
  });

  it("honours maximumRetryAttempts 0 and sends Lambda's record to the on-failure destination", async () => {
    const { invoker, delivered, calls } = harness(["error"], { maximumRetryAttempts: 0, onFailure: "arn:aws:sqs:eu-west-1:123456789012:reports-dlq" });
    const { requestId, done } = invoker.invokeAsync({ n: 2 });
    await done;
    expect(calls()).to.equal(1);
    expect(delivered).to.have.length(1);
    const { destination, record } = delivered[0];
    expect(destination).to.equal("arn:aws:sqs:eu-west-1:123456789012:reports-dlq");
    expect(record).to.deep.equal({
      version: "1.0",
      timestamp: new Date(0).toISOString(),
      requestContext: { requestId, functionArn: `${ARN}:$LATEST`, condition: "RetriesExhausted", approximateInvokeCount: 1 },
      requestPayload: { n: 2 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "Error", errorMessage: "boom", trace: ["Error: boom"] },
    });
  });

  it("gives up on an event older than maximumEventAgeInSeconds before its next retry", async () => {
    // 60 s of age allowed: the first retry waits 60 s (still 60 s old), the second 120 s more.
    const { invoker, delivered, calls } = harness(["error"], { maximumEventAgeSeconds: 60, onFailure: "arn:aws:sqs:eu-west-1:123456789012:reports-dlq" });
    const outcome = await invoker.invokeAsync({ n: 3 }).done;
    expect(outcome).to.include({ condition: "EventAgeExceeded", attempts: 2 });
    expect(calls()).to.equal(2);
    expect(delivered[0].record.requestContext).to.include({ condition: "EventAgeExceeded", approximateInvokeCount: 2 });
  });

  it("sends a success that follows a failure to the on-success destination, and nothing to the on-failure one", async () => {
    const { invoker, delivered } = harness(["error", "ok"], { onSuccess: "arn:aws:sns:eu-west-1:123456789012:done", onFailure: "arn:aws:sqs:eu-west-1:123456789012:reports-dlq" });
    const outcome = await invoker.invokeAsync({ n: 4 }).done;
    expect(outcome).to.include({ condition: "Success", attempts: 2, destination: "arn:aws:sns:eu-west-1:123456789012:done" });
    expect(delivered.map((d) => [d.destination, d.condition])).to.deep.equal([["arn:aws:sns:eu-west-1:123456789012:done", "Success"]]);
    expect(delivered[0].record.responseContext).to.deep.equal({ statusCode: 200, executedVersion: "$LATEST" });
    expect(delivered[0].record.responsePayload).to.deep.equal({ done: true });
  });
});
