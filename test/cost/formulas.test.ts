/**
 * Each formula against AWS's own worked examples. Lambda's prices in eu-west-1 are those of
 * us-east-1, where AWS's examples are priced, so the examples apply to the table as it is.
 */
import { expect } from "chai";
import * as aws from "@pulumi/aws";
import { HOURS_PER_MONTH, PRICES, pricesFor, tieredCost } from "../../tools/cost/prices";
import { bareFunction, estimateOf, item, trafficOf } from "./support";

const cents = (amount: number) => Math.round(amount * 100) / 100;

describe("cost formulas, checked against AWS's published examples", () => {
  it("Lambda, https://aws.amazon.com/lambda/pricing/ example 1: 512 MB, 3M invocations of 1 s: 1,500,000 GB-s; less the 400,000 GB-s free tier, $18.34 compute, and $0.40 for the 2M requests past the free million", async () => {
    // "Total compute (GB-s) = 3,000,000 * 512MB/1024 = 1,500,000 GB-s ... 1,100,000 * $0.00001667 = $18.34 ...
    //  2M * $0.2/M = $0.40 ... Total charges = $18.74 per month" (free tier subtracted in the example, not by us).
    const estimate = await estimateOf(() => bareFunction("example1", 512, "x86_64"),
      trafficOf({ invocationsPerMonth: ["example1=3000000"], durationMs: ["example1=1000"] }));
    const duration = item(estimate, "example1", "duration");
    const requests = item(estimate, "example1", "requests");
    expect(duration.quantity).to.equal(1_500_000);
    expect(duration.unitPrice).to.equal(0.0000166667);
    expect(requests.quantity).to.equal(3_000_000);
    // The example rounds the price to $0.00001667; with the full price it is $18.33.
    expect(Math.abs((duration.quantity - 400_000) * duration.unitPrice - 18.34)).to.be.below(0.011);
    expect(cents((requests.quantity - 1_000_000) * requests.unitPrice)).to.equal(0.40);
    // Without the free tier, as the command reports it: every GB-second and request billed.
    expect(cents(duration.monthly + requests.monthly)).to.equal(cents(1_500_000 * 0.0000166667 + 0.60));
  });

  it("Lambda, the pricing page's mobile backend: 3M requests of 120 ms at 1,536 MB on x86: 540,000 GB-s, $9.00 compute + $0.60 requests = $9.60", async () => {
    const estimate = await estimateOf(() => bareFunction("backend", 1536, "x86_64"),
      trafficOf({ invocationsPerMonth: ["backend=3000000"], durationMs: ["backend=120"] }));
    const duration = item(estimate, "backend", "duration");
    expect(duration.quantity).to.equal(540_000);
    expect(cents(duration.monthly)).to.equal(9.00);
    expect(cents(item(estimate, "backend", "requests").monthly)).to.equal(0.60);
  });

  it("Lambda on arm64 is billed at the arm price, 20% below x86", async () => {
    const estimate = await estimateOf(() => bareFunction("arm", 1536, "arm64"),
      trafficOf({ invocationsPerMonth: ["arm=3000000"], durationMs: ["arm=120"] }));
    const duration = item(estimate, "arm", "duration (arm64");
    expect(duration.quantity).to.equal(540_000);
    expect(duration.unitPrice).to.equal(0.0000133334);
    expect(cents(duration.monthly)).to.equal(7.20);
  });

  it("provisioned concurrency, the pricing page's example: 1,024 MB, 1,000 provisioned for 2 hours ($30.00), 1.2M invocations of 1 s on it ($11.67) and their requests ($0.24): $41.91", async () => {
    // "Total Provisioned Concurrency amount (GB-s) = 1,000 * 1 GB * 7,200 s = 7,200,000 GB-s ... * $0.0000041667 = $30.00";
    // "Total compute (GB-s) = 1,200,000 ... * $0.0000097222 = $11.67"; "1.2M * $0.20/M = $0.24"; "Total = $41.91".
    const estimate = await estimateOf(() => {
      const fn = bareFunction("warm", 1024, "x86_64", { publish: true });
      new aws.lambda.ProvisionedConcurrencyConfig("warm-pc", { functionName: fn.name, qualifier: "live", provisionedConcurrentExecutions: 1000 });
    }, trafficOf({ invocationsPerMonth: ["warm=1200000"], durationMs: ["warm=1000"], coldStartPercent: ["*=1"], initDurationMs: ["*=500"] }));
    const provisioned = item(estimate, "warm", "provisioned concurrency");
    const onProvisioned = item(estimate, "warm", "duration on provisioned concurrency");
    const requests = item(estimate, "warm", "requests");
    expect(provisioned.fixed).to.equal(true);
    expect(cents(7_200_000 * provisioned.unitPrice)).to.equal(30.00);
    // The command bills the whole month (730 hours) the config exists, not the example's 2 hours.
    expect(provisioned.quantity).to.equal(1000 * 1 * HOURS_PER_MONTH * 3600);
    expect(onProvisioned.quantity).to.equal(1_200_000);
    expect(cents(onProvisioned.monthly)).to.equal(11.67);
    expect(cents(requests.monthly)).to.equal(0.24);
    expect(cents(7_200_000 * provisioned.unitPrice + onProvisioned.monthly + requests.monthly)).to.equal(41.91);
    // Warm environments do not start cold, so no init phase is billed on demand, nor any on-demand duration.
    expect(estimate.items.filter((i) => i.resource === "warm").map((i) => i.item)).to.deep.equal(["requests", "provisioned concurrency 1000", "duration on provisioned concurrency"]);
  });

  it("provisioned concurrency: invocations past its capacity run on demand at the on-demand price", async () => {
    const estimate = await estimateOf(() => {
      const fn = bareFunction("busy", 1024, "arm64", { publish: true });
      new aws.lambda.ProvisionedConcurrencyConfig("busy-pc", { functionName: fn.name, qualifier: "live", provisionedConcurrentExecutions: 1 });
    }, trafficOf({ invocationsPerMonth: ["busy=3000000"], durationMs: ["busy=1000"] }));
    const capacity = 1 * HOURS_PER_MONTH * 3600;
    expect(item(estimate, "busy", "duration on provisioned").quantity).to.equal(capacity);
    expect(item(estimate, "busy", "duration (arm64").quantity).to.equal(3_000_000 - capacity);
  });

  it("the init phase, billed since 1 August 2025 for on-demand ZIP functions: cold starts x init duration x memory, at the duration price", async () => {
    const estimate = await estimateOf(() => bareFunction("cold", 2048, "x86_64"),
      trafficOf({ invocationsPerMonth: ["cold=1000000"], durationMs: ["cold=100"], coldStartPercent: ["cold=1"], initDurationMs: ["cold=400"] }));
    const init = item(estimate, "cold", "init phase");
    expect(init.item).to.equal("init phase (10000 cold starts)");
    expect(init.quantity).to.equal(10_000 * 0.4 * 2);
    expect(init.unitPrice).to.equal(0.0000166667);
  });

  it("graduated tiers: Lambda x86 duration past 6 billion GB-s, HTTP API past 300 million requests (the published tiers)", () => {
    const lambda = pricesFor("eu-west-1").lambda.x86_64.duration;
    expect(tieredCost(lambda, 7e9)).to.be.closeTo(6e9 * 0.0000166667 + 1e9 * 0.000015, 1e-6);
    // us-east-1's published HTTP API tiers ($1.00 per million for the first 300 million, $0.90 after), from
    // docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html:
    // 1 billion requests are 300 x $1.00 + 700 x $0.90 = $930.
    expect(tieredCost([{ upTo: 300e6, price: 1e-6 }, { upTo: Infinity, price: 0.9e-6 }], 1e9)).to.be.closeTo(930, 1e-6);
    // A quantity that starts past the first tier pays only the later tiers.
    expect(tieredCost(PRICES["eu-west-1"].apiGateway.httpRequest, 100e6, 300e6)).to.be.closeTo(100, 1e-6);
  });

  it("HTTP API requests are metered in 512 KB increments; SQS requests in 64 KB chunks, three per message (send, receive, delete)", async () => {
    const estimate = await estimateOf(() => {
      const api = new aws.apigatewayv2.Api("api", { protocolType: "HTTP" });
      new aws.apigatewayv2.Route("upload", { apiId: api.id, routeKey: "PUT /files" });
      new aws.sqs.Queue("jobs", {});
    }, trafficOf({ requestsPerMonth: ["PUT /files=1000000"], payloadBytes: ["PUT /files=600000", "jobs=100000"], messagesPerMonth: ["jobs=1000000"] }));
    const http = item(estimate, "api", "HTTP API requests");
    expect(http.quantity).to.equal(2_000_000);
    expect(cents(http.monthly)).to.equal(2.22);
    const sqs = item(estimate, "jobs", "standard requests");
    expect(sqs.quantity).to.equal(3 * 2 * 1_000_000);
    expect(cents(sqs.monthly)).to.equal(2.40);
  });

  it("refuses a region without a price table, naming the regions it has", () => {
    expect(() => pricesFor("ap-south-2")).to.throw(/No price table for region ap-south-2; tools\/cost\/prices.ts has eu-west-1/);
  });
});
