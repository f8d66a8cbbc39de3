/**
 * The plan's diagrams rendered as GitHub renders a ```mermaid block: by Mermaid in a
 * browser, here mermaid-cli driving Debian's Chromium (installed by .ci/run; puppeteer
 * downloads no browser of its own). A diagram Mermaid cannot parse fails the test. Without
 * Chromium the test fails too: a skipped render would let a broken diagram through.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "puppeteer";
import { architectureDiagram } from "../../tools/diagram";
import { eventSourcesProgram, eventWorkersProgram } from "../fixtures/event-sources";
import { restApiProgram } from "../fixtures/rest-api";
import { record, stackPlan } from "../mocks";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Headless, and none of Chromium's background connections, which this network refuses. */
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

type RenderMermaid = typeof import("@mermaid-js/mermaid-cli").renderMermaid;

describe("the plan's diagrams, rendered by Mermaid in Chromium", function () {
  // Chromium starts once for the file; each render then takes well under a second.
  this.timeout(60000);
  let browser: Browser;
  let renderMermaid: RenderMermaid;
  let profile: string;

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`);
    profile = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-chromium-"));
    const puppeteer = (await import("puppeteer")).default;
    ({ renderMermaid } = await import("@mermaid-js/mermaid-cli"));
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`] });
  });
  after(async () => {
    await browser?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  const svgOf = async (diagram: string) => Buffer.from((await renderMermaid(browser, diagram, "svg", {})).data).toString("utf8");
  /** The rendered width and height (px) from the SVG's viewBox. */
  const sizeOf = (svg: string) => {
    const box = /viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"/.exec(svg);
    if (!box) throw new Error(`no viewBox in the rendered SVG: ${svg.slice(0, 200)}`);
    return { width: Number(box[1]), height: Number(box[2]) };
  };

  for (const stack of ["dev", "prod"]) {
    it(`renders the ${stack} stack's diagram, every node and edge label in it`, async () => {
      const plan = await stackPlan(stack);
      const svg = await svgOf(plan.diagram);
      for (const label of ["HTTP API orders-api", "λ fulfilment-consumer", "DynamoDB orders", "Cognito customers", "failed batches"]) expect(svg, label).to.include(label);
      // Legible in a pull-request comment: as wide as the routes side by side, not a line of every rank.
      expect(sizeOf(svg).width, "width in px").to.be.below(2000);
    });
  }

  it("renders a program with every event source, as raw resources", async () => {
    const { resources } = await record(eventSourcesProgram);
    const svg = await svgOf(architectureDiagram(resources));
    for (const label of ["Kinesis clicks", "SNS order-events", "S3 shop-uploads", "EventBridge rule notifier-shipped", "Schedule notifier-nightly", "failed batches", "bisect"]) expect(svg, label).to.include(label);
  });

  it("renders the StreamWorker and EventWorker components", async () => {
    const { resources } = await record(eventWorkersProgram);
    const svg = await svgOf(architectureDiagram(resources));
    for (const label of ["StreamWorker order-changes", "EventWorker notifier", "S3 shop-documents", "failed events"]) expect(svg, label).to.include(label);
  });

  it("renders a RestApi with usage plans, authorizers, a schema, WAF and a domain", async () => {
    const { resources } = await record(restApiProgram);
    const svg = await svgOf(architectureDiagram(resources));
    for (const label of ["REST API partner-api", "usage plan gold", "GET /orders/{orderId}", "TOKEN authorizer, cache 5 min", "Cognito authorizer", "body checked against its schema", "https://partners.example.com/v1"]) expect(svg, label).to.include(label);
  });

  it("renders every ```mermaid block of the docs", async () => {
    const docs = path.resolve(__dirname, "../../docs");
    const files = fs.readdirSync(docs, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".md"));
    const blocks = files.flatMap((file) => [...fs.readFileSync(path.join(docs, file), "utf8").matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => ({ file, diagram: m[1] })));
    expect(blocks.length).to.be.greaterThan(1);
    for (const { file, diagram } of blocks) await svgOf(diagram).catch((error: Error) => expect.fail(`docs/${file}: ${error.message}`));
  });

  it("fails on a diagram Mermaid cannot parse", async () => {
    await svgOf("flowchart TB\n  a[\"unclosed\n  a --> |b").then(
      () => expect.fail("rendered a diagram that does not parse"),
      (error: Error) => expect(error.message).to.match(/Parse error|Lexical error|Syntax error/i),
    );
  });
});
