/**
 * One evaluation of the prod stack (`buildPlan("prod")` of tools/plan.ts) in a fresh process,
 * with real bundling or with bundling stubbed out. Run by bench/cold-start.ts as
 * `node --require ./tools/ts-register.cjs bench/plan-child.ts <real|stub>`; reports one JSON marker line.
 *
 * How bundling is switched off, honestly: before the program is loaded, the CommonJS module
 * cache entry of components/bundling.ts gets an exports object that is the real module's,
 * with `bundleHandlerCached` replaced. SecureFunction looks it up on that object at each
 * call, so nothing else changes: same program, same validation, same resources.
 *  - real: the real bundleHandlerCached (esbuild, or the bundle cache when the parent left
 *    it warm), wrapped to count its calls and time them;
 *  - stub: returns a constant one-line bundle at once (no esbuild call, no cache).
 * Both modes go through the same replacement, so the only difference is the bundling work.
 * The real mode's summed bundling time is a second, independent estimate of that cost.
 */
import { performance } from "node:perf_hooks";

const tStart = performance.now();
const mode = process.argv[2];
if (mode !== "real" && mode !== "stub") throw new Error(`usage: plan-child.ts <real|stub>, got ${mode}`);

type BundlingModule = typeof import("../components/bundling");
const modulePath = require.resolve("../components/bundling");
const real = require(modulePath) as BundlingModule;
let calls = 0;
let bundlingMs = 0;
const bundleHandlerCached: BundlingModule["bundleHandlerCached"] =
  mode === "real"
    ? (...args) => {
        const t0 = performance.now();
        try {
          return real.bundleHandlerCached(...args);
        } finally {
          calls += 1;
          bundlingMs += performance.now() - t0;
        }
      }
    : () => {
        calls += 1;
        const text = "export const handler = async () => ({ statusCode: 200 });\n";
        return { files: { [real.BUNDLE_FILE]: text }, bytes: Buffer.byteLength(text) };
      };
const cached = require.cache[modulePath];
if (!cached) throw new Error(`${modulePath} is not in the CommonJS module cache; cannot swap bundleHandlerCached`);
cached.exports = { ...real, bundleHandlerCached };

async function main(): Promise<void> {
  const t0 = performance.now();
  const { buildPlan } = require("../tools/plan") as typeof import("../tools/plan");
  const t1 = performance.now();
  const { resources } = await buildPlan("prod");
  const t2 = performance.now();
  const report = { mode, importMs: t1 - t0, planMs: t2 - t1, totalMs: t2 - tStart, calls, bundlingMs, resources: resources.length };
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(report)}\n`, () => process.exit(0));
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
