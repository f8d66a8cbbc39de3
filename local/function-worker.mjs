// One Lambda execution environment of the local runtime, in a worker thread: imports the
// function's bundle once (the cold start), then runs one invocation at a time, as Lambda
// does. The parent enforces the timeout by terminating this thread.
import { parentPort, workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";

const { bundleFile, exportName } = workerData;
let handler;

function errorOf(error, fallbackType) {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: e.name && e.name !== "Error" ? e.name : fallbackType,
    errorMessage: e.message,
    trace: String(e.stack ?? "").split("\n"),
  };
}

async function init() {
  const started = performance.now();
  const module = await import(pathToFileURL(bundleFile).href);
  const exported = module[exportName];
  if (typeof exported !== "function") {
    const error = new Error(`${exportName} is not a function exported by ${bundleFile}`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  handler = exported;
  return performance.now() - started;
}

parentPort.on("message", async (message) => {
  if (message.type !== "invoke") return;
  const { id, event, timeoutMs } = message;
  let initMs;
  if (!handler) {
    try {
      initMs = await init();
    } catch (error) {
      parentPort.postMessage({ type: "result", id, error: errorOf(error, "Runtime.ImportModuleError"), initFailed: true });
      return;
    }
  }
  const deadline = Date.now() + timeoutMs;
  parentPort.postMessage({ type: "started", id, initMs });
  const context = {
    ...message.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  try {
    const result = await handler(event, context);
    // Lambda serializes what the handler returns as JSON; undefined becomes null.
    parentPort.postMessage({ type: "result", id, payload: result === undefined ? "null" : JSON.stringify(result) });
  } catch (error) {
    parentPort.postMessage({ type: "result", id, error: errorOf(error, "Error") });
  }
});
