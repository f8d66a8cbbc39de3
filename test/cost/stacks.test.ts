/**
 * The estimate of the real program's dev and prod stacks: structure, and figures that
 * follow from the traffic model and the price table (computed here, not snapshots).
 */
import { expect } from "chai";
import { ordersTable } from "../../handlers/orders/table";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { byComponent, CostEstimate, estimateCost, estimatePlan, totalsOf } from "../../tools/cost/estimate";
import { pricesFor } from "../../tools/cost/prices";
import { costAsJson, costAsMarkdown, costAsText, costDiffAsMarkdown, diffCosts } from "../../tools/cost/render";
import { readTraffic } from "../../tools/cost/traffic";
import { parseCostArguments, runCostCommand } from "../../tools/cost";
import { runPlanCommand } from "../../tools/plan";
import { loadStackConfig } from "../../tools/stack-config";
import { stackPlan } from "../mocks";

const ROOT = path.resolve(__dirname, "../..");

const estimateFor = async (stack: string) => estimatePlan(await stackPlan(stack));

describe("the cost of the dev and prod stacks", () => {
  let dev: CostEstimate;
  let prod: CostEstimate;
  before(async () => {
    dev = await estimateFor("dev");
    prod = await estimateFor("prod");
  });

  it("prices every custom resource the program registers, or knows it to be free", () => {
    for (const estimate of [dev, prod]) expect(estimate.unpriced, estimate.stack).to.deep.equal([]);
    expect(dev.freeTierApplied).to.equal(false);
  });

  it("groups line items by component, and the totals are the sums of the line items", () => {
    const groups = byComponent(prod);
    expect(groups.map((g) => g.component)).to.include.members(["orders-api", "fulfilment", "stack"]);
    for (const group of groups) {
      expect(group.total).to.be.closeTo(group.items.reduce((sum, i) => sum + i.monthly, 0), 1e-9);
      for (const i of group.items) expect(i.monthly, `${i.resource} ${i.item}`).to.be.closeTo(i.quantity * i.unitPrice, 1e-9);
    }
    const totals = totalsOf(prod.items);
    expect(totals.total).to.be.closeTo(groups.reduce((sum, g) => sum + g.total, 0), 1e-9);
  });

  it("keeps the fixed part apart: prod's provisioned concurrency, interface endpoints, keys and alarms; dev has no endpoints or warm functions", async () => {
    const prices = pricesFor("eu-west-1");
    const fixed = prod.items.filter((i) => i.fixed);
    // Two read functions, 2 provisioned each, 1024 MB on arm64, all month.
    const provisioned = fixed.filter((i) => i.item.startsWith("provisioned concurrency"));
    expect(provisioned.map((i) => i.resource).sort()).to.deep.equal(["orders-api-get-order", "orders-api-list-orders"]);
    for (const i of provisioned) expect(i.monthly).to.be.closeTo(2 * 1 * 730 * 3600 * prices.lambda.arm64.provisionedConcurrency, 1e-6);
    // Three interface endpoints (SQS, SSM, X-Ray) in two zones; the DynamoDB gateway endpoint is free.
    const endpoints = fixed.filter((i) => i.item.startsWith("interface endpoint"));
    expect(endpoints.map((i) => i.resource).sort()).to.deep.equal(["orders-network-sqs", "orders-network-ssm", "orders-network-xray"]);
    for (const i of endpoints) expect(i.monthly).to.be.closeTo(2 * 730 * prices.vpc.interfaceEndpointAzHour, 1e-9);
    expect(fixed.filter((i) => i.item === "customer-managed key").map((i) => i.resource).sort()).to.deep.equal(["alarms-key", "data-key"]);
    const alarms = (await stackPlan("prod")).resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm").length;
    expect(fixed.filter((i) => i.item === "standard alarm")).to.have.length(alarms);
    expect(dev.items.filter((i) => i.fixed && !["standard alarm", "customer-managed key"].includes(i.item))).to.deep.equal([]);
  });

  it("follows the traffic model: each route's requests reach its function, the stream's records reach the worker in batches", async () => {
    const traffic = readTraffic(loadStackConfig("prod", ROOT));
    const requests = (route: string) => traffic.get("requestsPerMonth", route);
    const lambdaRequests = (fn: string) => prod.items.find((i) => i.resource === fn && i.item === "requests")!.quantity;
    expect(lambdaRequests("orders-api-create-order")).to.equal(requests("POST /orders"));
    expect(lambdaRequests("orders-api-get-order")).to.equal(requests("GET /orders/{orderId}"));
    expect(lambdaRequests("orders-api-list-orders")).to.equal(requests("GET /orders"));
    expect(lambdaRequests("orders-api-health")).to.equal(requests("GET /health"));
    const api = prod.items.find((i) => i.item === "HTTP API requests")!;
    expect(api.quantity).to.equal(["POST /orders", "GET /orders/{orderId}", "GET /orders", "GET /health"].reduce((sum, r) => sum + requests(r), 0));
    expect(api.monthly).to.be.closeTo(api.quantity * 1.11e-6, 1e-9);
    const batch = (await stackPlan("prod")).resources.find((r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping")!.inputs.batchSize;
    expect(lambdaRequests("fulfilment-consumer")).to.equal(traffic.get("messagesPerMonth", "orders") / batch);
    // Writes: create-order and the worker, each write also to each index (the customer's, the pending one).
    const writes = prod.items.find((i) => i.resource === "orders" && i.item.startsWith("write request units"))!;
    const expected = (lambdaRequests("orders-api-create-order") * traffic.get("dynamodbWriteUnits", "orders-api-create-order") + lambdaRequests("fulfilment-consumer") * traffic.get("dynamodbWriteUnits", "fulfilment-consumer")) * (1 + ordersTable.globalSecondaryIndexes.length);
    expect(writes.quantity).to.be.closeTo(expected, 1e-6);
    // Cognito at the pool's tier.
    const users = prod.items.find((i) => i.item.startsWith("monthly active users"))!;
    expect(users.item).to.equal("monthly active users (PLUS)");
    expect(users.quantity).to.equal(traffic.get("monthlyActiveUsers", "customers"));
  });

  it("as markdown: a headline with the total, a table per component, the line items folded, the free-tier note", () => {
    const markdown = costAsMarkdown(prod);
    const total = totalsOf(prod.items).total;
    expect(markdown.split("\n")[0]).to.equal(`### 💰 Cost of \`prod\`: $${total.toFixed(2)} per month ($${totalsOf(prod.items).fixed.toFixed(2)} fixed + $${totalsOf(prod.items).traffic.toFixed(2)} traffic)`);
    expect(markdown).to.include("| component | fixed | traffic | total |").and.include(`<details><summary>Line items (${prod.items.length})</summary>`).and.include("Free tiers are not applied");
    const rows = markdown.split("\n").filter((l) => l.startsWith("| orders-api |"));
    expect(rows.length).to.be.at.least(prod.items.filter((i) => i.component === "orders-api").length);
    for (const row of rows) expect(row.split(" | ").length).to.be.oneOf([4, 7]);
  });

  it("as JSON: totals, components, items with their fields, the sources", () => {
    const json = JSON.parse(costAsJson(prod));
    expect(json).to.include({ stack: "prod", region: "eu-west-1", currency: "USD", freeTierApplied: false });
    expect(json.totals.total).to.be.closeTo(totalsOf(prod.items).total, 1e-9);
    expect(json.components.map((c: any) => c.component)).to.deep.equal(byComponent(prod).map((g) => g.component));
    expect(Object.keys(json.items[0]).sort()).to.deep.equal(["component", "fixed", "item", "monthly", "quantity", "resource", "source", "type", "unit", "unitPrice"]);
    expect(json.sources.lambda).to.equal("https://aws.amazon.com/lambda/pricing/");
  });

  it("as text: one block per component, the total line", () => {
    const text = costAsText(dev);
    expect(text.split("\n")[0]).to.match(/^Monthly cost of stack "dev" of serverless-orders \(eu-west-1\): \$\d+\.\d\d/);
    expect(text).to.match(/\norders-api: \$/).and.match(/\nTotal: \$\d+\.\d\d per month: fixed \$/);
  });

  it("the difference dev -> prod per component adds up to the difference of the totals", () => {
    const diff = diffCosts(dev, prod);
    expect(diff.totals.change).to.be.closeTo(totalsOf(prod.items).total - totalsOf(dev.items).total, 1e-9);
    expect(diff.components.reduce((sum, c) => sum + c.change, 0)).to.be.closeTo(diff.totals.change, 1e-9);
    expect(costDiffAsMarkdown(diff)).to.include("| component | dev | prod | change |");
  });

  it("the README's cost table is the command's output for dev against prod (regenerate it with npm run -s cost -- --diff dev prod --markdown)", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const shown = /<!-- cost:start -->\n([\s\S]*?)\n<!-- cost:end -->/.exec(readme)?.[1];
    expect(shown).to.equal(costDiffAsMarkdown(diffCosts(dev, prod)));
  });

  it("npm run plan -- --diff dev prod carries the monthly cost difference (text and JSON)", async () => {
    const json = JSON.parse(await runPlanCommand({ format: "json", stacks: ["dev", "prod"] }, ROOT));
    expect(json.cost).to.deep.equal(JSON.parse(JSON.stringify(diffCosts(dev, prod))));
    const text = await runPlanCommand({ format: "text", stacks: ["dev", "prod"] }, ROOT);
    expect(text).to.match(/\nMonthly cost, dev -> prod: \$\d+\.\d\d -> \$\d+\.\d\d \(\+\$/);
  });

  it("npm run cost: arguments, --help, one stack or --diff, bad options refused", async () => {
    expect(parseCostArguments([])).to.deep.equal({ format: "text", stacks: ["dev"] });
    expect(parseCostArguments(["prod", "--markdown", "--out", "c.md"])).to.deep.equal({ format: "markdown", stacks: ["prod"], out: "c.md" });
    expect(parseCostArguments(["--diff", "dev", "prod", "--json"])).to.deep.equal({ format: "json", stacks: ["dev", "prod"] });
    expect(parseCostArguments(["prod", "--recommend-memory", "d.json", "--max-p99", "150"])).to.deep.equal({ format: "text", stacks: ["prod"], recommendMemory: "d.json", maxP99Ms: 150 });
    expect(parseCostArguments(["--help"])).to.equal("help");
    expect(() => parseCostArguments(["--diff", "dev"])).to.throw(/--diff compares two stacks, got 1/);
    expect(() => parseCostArguments(["--markdown", "--json"])).to.throw(/choose one/);
    expect(() => parseCostArguments(["--max-p99", "0", "--recommend-memory", "d.json"])).to.throw(/--max-p99 takes a latency/);
    expect(() => parseCostArguments(["--frobnicate"])).to.throw(/unknown option --frobnicate/);
    const json = JSON.parse(await runCostCommand({ format: "json", stacks: ["dev"] }, ROOT));
    expect(json.totals.total).to.be.closeTo(totalsOf(dev.items).total, 1e-9);
  });

  it("a bad traffic value fails before the program runs, naming every bad entry, its range and the fix", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-config-"));
    try {
      fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), [
        "config:",
        "  aws:region: eu-west-1",
        '  serverless-orders:trafficRequestsPerMonth: ["POST /orders=lots", "GET /orders=-1"]',
        '  serverless-orders:trafficColdStartPercent: ["*=150"]',
        '  serverless-orders:trafficDurationMs: ["*=10", "*=20"]',
        "",
      ].join("\n"));
      const failure = await runCostCommand({ format: "text", stacks: ["bad"] }, dir).then(() => undefined, (error: Error) => error);
      expect(failure?.message).to.match(/^Stack "bad" has invalid configuration:/);
      expect(failure?.message).to.include('serverless-orders:trafficRequestsPerMonth[0] = "POST /orders=lots" is not "<name>=<number>" with <number> in 0-1000000000000 requests per month')
        .and.include("trafficRequestsPerMonth[1] = \"GET /orders=-1\"")
        .and.include('trafficColdStartPercent[0] = "*=150" is not "<name>=<number>" with <number> in 0-100 % of invocations that start cold')
        .and.include("trafficDurationMs[1] names * again");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("notes the deployment runners and hooks once, so a function nothing invokes by mistake stands out", async () => {
    const plan = await stackPlan("prod");
    const estimate = estimateCost(plan.resources, readTraffic(plan.config), { project: plan.project, stack: "prod", region: plan.region });
    const machinery = plan.resources.filter((r) => r.type === "aws:lambda/function:Function" && /-(deployer|before-traffic)$/.test(r.name)).map((r) => r.name);
    expect(machinery.length).to.be.greaterThan(0);
    expect(estimate.notes.filter((note) => note.includes("has no traffic"))).to.deep.equal([]);
    const note = estimate.notes.find((n) => n.includes("deployment runners and hooks"));
    expect(note).to.include(`${machinery.length} deployment runners and hooks`);
    for (const name of machinery) expect(note).to.include(name);
  });

  it("notes a traffic entry naming nothing in the stack (a typo)", async () => {
    const plan = await stackPlan("dev");
    const config = { ...plan.config, config: { ...plan.config.config, "serverless-orders:trafficDurationMs": JSON.stringify(["*=50", "orders-api-get-ordr=30"]) } };
    const estimate = estimateCost(plan.resources, readTraffic(config), { project: plan.project, stack: "dev", region: plan.region });
    expect(estimate.notes).to.include("trafficDurationMs names orders-api-get-ordr, which this stack does not have (a typo, or a resource removed?).");
  });
});

