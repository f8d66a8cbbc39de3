// One Lambda execution environment of the local runtime, a child process of the Node the
// function's runtime names: imports the function's bundle once (the cold start), then runs
// one invocation at a time, as Lambda does, talking to the parent over IPC. The parent
// enforces the timeouts by killing this process. Plain ESM for every Node major it may run on.
import { pathToFileURL } from "node:url";

const [bundleFile, exportName] = process.argv.slice(2);
let handler;

function errorOf(error, fallbackType) {
  const e = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: e.name && e.name !== "Error" ? e.name : fallbackType,
    errorMessage: e.message,
    trace: String(e.stack ?? "").split("\n"),
  };
}

/** Imports the bundle; returns the init duration, measured from this process's start as Lambda's Init Duration counts the runtime's start too. */
async function init() {
  const module = await import(pathToFileURL(bundleFile).href);
  const exported = module[exportName];
  if (typeof exported !== "function") {
    const error = new Error(`${exportName} is not a function exported by ${bundleFile}`);
    error.name = "Runtime.HandlerNotFound";
    throw error;
  }
  handler = exported;
  return performance.now();
}

// An environment lives no longer than the local runtime that started it, even if the bundle
// leaves timers or sockets open.
process.on("disconnect", () => process.exit(0));

// An uncaught error ends the environment, as on Lambda; the parent hears why first.
process.on("uncaughtException", (error) => {
  process.send({ type: "fatal", message: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
});

process.on("message", async (message) => {
  if (message.type !== "invoke") return;
  const { id, event, timeoutMs } = message;
  let initMs;
  if (!handler) {
    try {
      initMs = await init();
    } catch (error) {
      process.send({ type: "result", id, error: errorOf(error, "Runtime.ImportModuleError"), initFailed: true });
      return;
    }
  }
  const deadline = Date.now() + timeoutMs;
  process.send({ type: "started", id, initMs });
  const context = {
    ...message.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  try {
    const result = await handler(event, context);
    // Lambda serializes what the handler returns as JSON; undefined becomes null.
    process.send({ type: "result", id, payload: result === undefined ? "null" : JSON.stringify(result) });
  } catch (error) {
    process.send({ type: "result", id, error: errorOf(error, "Error") });
  }
});
