// One cold start, measured the way Lambda sees it: this file runs in a FRESH Node process
// (plain `node`, no loader hooks), loads one packaging of one handler, calls it once and
// reports through stdout on one marker line. Plain JavaScript on purpose: a TypeScript
// loader (tsx) in this process would add its own work to the module-load time.
//
//   node bench/child.mjs <handler file> <cjs|esm> <event JSON> [--modules]
//
// initMs: performance.now() around require()/import() of the handler module (module init:
// parse + evaluate, including SDK clients created at module scope).
// invokeMs: performance.now() around the first handler call (first request: lazy SDK work,
// credential resolution, connection set-up, the calls to dynalite and the stand-ins).
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";

const [file, kind, eventJson, ...flags] = process.argv.slice(2);
const event = JSON.parse(eventJson);
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: "bench",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:bench",
  memoryLimitInMB: "256",
  awsRequestId: "bench-request",
  logGroupName: "/aws/lambda/bench",
  logStreamName: "bench",
  getRemainingTimeInMillis: () => 10_000,
  done() {},
  fail() {},
  succeed() {},
};
const require = createRequire(import.meta.url);

const t0 = performance.now();
// Like the Lambda Node.js runtime: CommonJS files through require(), ES modules through import().
const mod = kind === "cjs" ? require(file) : await import(pathToFileURL(file).href);
const t1 = performance.now();
const result = await mod.handler(event, context);
const t2 = performance.now();

const outcome =
  result && typeof result.statusCode === "number"
    ? `status ${result.statusCode}`
    : result && Array.isArray(result.batchItemFailures)
      ? `failures ${result.batchItemFailures.length}`
      : `unexpected ${JSON.stringify(result)}`;
const report = { initMs: t1 - t0, invokeMs: t2 - t1, bootMs: t0, outcome };
// Which files the CommonJS loader read (only meaningful for CommonJS packagings); collected
// after the timings, so it costs the measurement nothing.
if (flags.includes("--modules")) report.modules = Object.keys(require.cache);
// The SDK's keep-alive sockets would hold the process open: report, then leave.
process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(report)}\n`, () => process.exit(0));
