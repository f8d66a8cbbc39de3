/** The memory recommendation: the duration-scaling assumption, the choice, the file's checks. */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FunctionUsage } from "../../tools/cost/estimate";
import { checkDurations, durationAt, Measurement, monthlyAt, recommendMemory, recommendationsAsMarkdown } from "../../tools/cost/memory";
import { pricesFor } from "../../tools/cost/prices";
import { runCostCommand } from "../../tools/cost";

const prices = pricesFor("eu-west-1");
const ROOT = path.resolve(__dirname, "../..");

const usage = (name: string, memoryMb: number, invocations: number, extra: Partial<FunctionUsage> = {}): FunctionUsage => ({
  function: {} as any, name, memoryMb, architecture: "arm64", invocations, durationMs: 0, initDurationMs: 0, coldStartPercent: 0, provisioned: 0, inVpc: false, ...extra,
});

describe("memory recommendation per function", () => {
  // A handler with a fixed 20 ms wait and 160 ms of CPU at 1,769 MB... measured at two sizes.
  const measured: Measurement[] = [
    { memoryMb: 512, averageMs: 20 + 160 * (1769 / 512), p99Ms: 2 * (20 + 160 * (1769 / 512)) },
    { memoryMb: 1769, averageMs: 180, p99Ms: 360 },
  ];

  it("durations: exact where measured; a + b/cpu between two sizes; all CPU-bound below; no gain above", () => {
    expect(durationAt(measured, 1769, "averageMs")).to.equal(180);
    // Between: the fitted model gives back the handler's true curve.
    expect(durationAt(measured, 1024, "averageMs")).to.be.closeTo(20 + 160 * (1769 / 1024), 1e-9);
    // Below the smallest: the whole of it scales with CPU (pessimistic).
    expect(durationAt(measured, 256, "averageMs")).to.be.closeTo(measured[0].averageMs * 2, 1e-9);
    // Above the largest: no speed-up assumed.
    expect(durationAt(measured, 4096, "p99Ms")).to.equal(360);
  });

  it("the monthly cost at a size: requests plus GB-seconds (whole milliseconds), provisioned concurrency scaling with memory", () => {
    expect(monthlyAt(usage("f", 1024, 1_000_000), 1024, 99.2, prices)).to.be.closeTo(0.2 + 1_000_000 * 0.1 * 1 * 0.0000133334, 1e-9);
    const warm = usage("w", 1024, 0, { provisioned: 2 });
    expect(monthlyAt(warm, 2048, 10, prices)).to.be.closeTo(2 * monthlyAt(warm, 1024, 10, prices), 1e-9);
  });

  it("recommends the cheapest size whose p99 is within the limit, and says when none is", () => {
    const [limited, unreachable, unlimited, unmeasured] = recommendMemory(
      [usage("api", 512, 3_000_000), usage("slow", 512, 1000), usage("free", 1024, 1_000_000), usage("other", 256, 10)],
      { functions: { api: { maxP99Ms: 500, measured }, slow: { maxP99Ms: 100, measured }, free: { measured: [{ memoryMb: 1024, averageMs: 50, p99Ms: 80 }] } } },
      prices,
    );
    // Every size's p99 and cost by the model; the cheapest of those within 500 ms is chosen.
    const within = limited.options.filter((o) => o.p99Ms <= 500);
    expect(limited.recommended!.monthly).to.equal(Math.min(...within.map((o) => o.monthly)));
    expect(limited.recommended!.p99Ms).to.be.at.most(500);
    expect(limited.options.filter((o) => o.p99Ms > 500).map((o) => o.memoryMb)).to.include(512);
    expect(limited.current!.memoryMb).to.equal(512);
    expect(unreachable.recommended).to.equal(undefined);
    expect(unreachable.reason).to.equal("no size keeps p99 within 100 ms; the fastest is 360 ms");
    // No limit: the cheapest of all sizes, by the same model.
    expect(unlimited.maxP99Ms).to.equal(undefined);
    expect(unlimited.recommended!.monthly).to.equal(Math.min(...unlimited.options.map((o) => o.monthly)));
    expect(unmeasured).to.deep.include({ function: "other", reason: "not measured", options: [] });
    expect(recommendationsAsMarkdown([limited], "prod")).to.include("| api | 512 MB |");
  });

  it("refuses a durations file that is malformed or names a function the stack does not have", () => {
    expect(() => checkDurations({ functions: { f: { measured: [{ memoryMb: 64, averageMs: 10, p99Ms: 5 }] } } }, "d.json")).to.throw(/memoryMb = 64 is not a whole number of MB in 128-10240[\s\S]*p99Ms at least averageMs/);
    expect(() => checkDurations({}, "d.json")).to.throw(/"functions" is missing/);
    expect(() => recommendMemory([usage("a", 128, 1)], { functions: { b: { measured } } }, prices)).to.throw(/names b, which the stack does not have; its functions: a/);
  });

  it("npm run cost -- prod --recommend-memory <file> --max-p99 <ms>: one row per function of the stack", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "durations-"));
    try {
      const file = path.join(dir, "durations.json");
      fs.writeFileSync(file, JSON.stringify({ functions: { "orders-api-get-order": { measured: [{ memoryMb: 256, averageMs: 60, p99Ms: 240 }, { memoryMb: 1024, averageMs: 25, p99Ms: 70 }] } } }));
      const json = JSON.parse(await runCostCommand({ format: "json", stacks: ["prod"], recommendMemory: file, maxP99Ms: 150 }, ROOT));
      const deployed = ["fulfilment-consumer", "orders-api-create-order", "orders-api-get-order", "orders-api-health", "orders-api-list-orders"];
      // Each deployed function brings its CodeDeploy runner, and each API function its before-traffic hook; the sweeper is not deployed by CodeDeploy.
      const expected = ["sweeper-function", ...deployed, ...deployed.map((name) => `${name}-deployer`), ...deployed.filter((name) => name.startsWith("orders-api")).map((name) => `${name}-before-traffic`)];
      expect(json.recommendations.map((r: any) => r.function).sort()).to.deep.equal(expected.sort());
      const getOrder = json.recommendations.find((r: any) => r.function === "orders-api-get-order");
      expect(getOrder.maxP99Ms).to.equal(150);
      expect(getOrder.recommended.p99Ms).to.be.at.most(150);
      expect(getOrder.currentMb).to.equal(1024);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
