/**
 * The npm package as another Pulumi project gets it: `npm pack` (which builds through
 * `prepack`), install the tarball into a fresh project with its own TypeScript handler and
 * its own dependency, type-check that project against our declarations, and evaluate it
 * under the recording mock engine. Catches a broken `exports`, a file missing from `files`,
 * and any path that only resolves inside this repository.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import { createRequire } from "module";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { evaluateProgram, Evaluation } from "../../tools/mock-engine";
import { archiveFiles } from "../components/support";

const REPO = path.resolve(__dirname, "../..");
const PACKAGE = "@orders-platform/serverless-components";
/** Only the consumer's own dependency contains this text; it must end up in the bundle. */
const GREETING_MARK = "greeting-from-the-consumer's-own-dependency";
/** Only the consumer's deployment check contains this text; it must end up in the hook's bundle. */
const CHECK_MARK = "probe-from-the-consumer's-own-check";

const CONSUMER_FILES: Record<string, string> = {
  "Pulumi.yaml": "name: shop\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
  "tsconfig.json": JSON.stringify({
    compilerOptions: { target: "ES2022", module: "node16", moduleResolution: "node16", strict: true, skipLibCheck: true, types: [] },
    include: ["index.ts"],
  }),
  "index.ts": `import { EventWorker, QueueWorker, RestApi, SecureFunction, ServerlessApi, StreamWorker } from "${PACKAGE}";

const worker = new QueueWorker("jobs", { handler: "src/work.handler", timeout: 20 });
new EventWorker("daily", { handler: "src/work.handler", triggers: { report: { schedule: { expression: "rate(1 day)" } } } });
new StreamWorker("clicks", { handler: "src/work.handler", streamArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", filters: [{ partitionKey: ["eu"] }] });
const api = new ServerlessApi("shop-api", {
  routes: { "GET /hello": { handler: "src/hello.handler", auth: "none", memorySize: 256 } },
});
new RestApi("partners", { routes: { "GET /hello": { handler: "src/hello.handler", auth: "none", apiKeyRequired: true } }, usagePlans: { basic: { apiKeys: ["acme"] } } });
new SecureFunction("reports", { handler: "src/work.handler", deployment: { strategy: "canary", percentage: 10, minutes: 5, beforeTraffic: "src/check.check" } });
export const url = api.url;
export const queueUrl = worker.queueUrl;
`,
  "src/check.ts": `export const check = async (target: { invoke(payload: unknown): Promise<unknown> }) => {
  await target.invoke({ probe: "${CHECK_MARK}" });
};
`,
  "src/hello.ts": `import { greet } from "greeting";

export const handler = async () => ({ statusCode: 200, body: greet("shop") });
`,
  "src/work.ts": `export const handler = async (event: { Records: unknown[] }) => ({ batchItemFailures: [] as unknown[], seen: event.Records.length });
`,
  "vendor/greeting/package.json": JSON.stringify({ name: "greeting", version: "1.0.0", main: "index.js" }),
  "vendor/greeting/index.js": `exports.greet = (name) => \`hello \${name}, ${GREETING_MARK}\`;\n`,
};

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * The package's runtime dependencies as this repository installed them, with theirs and the
 * platform binaries (optional dependencies) this machine has: what the consumer's install needs.
 */
function installedDependencyClosure(): string[] {
  const manifestOf = (name: string) => JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", name, "package.json"), "utf8"));
  const root = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
  const found = new Set<string>();
  const visit = (name: string) => {
    if (found.has(name) || !fs.existsSync(path.join(REPO, "node_modules", name))) return;
    found.add(name);
    const manifest = manifestOf(name);
    for (const dependency of [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})]) visit(dependency);
  };
  for (const dependency of Object.keys(root.dependencies ?? {})) visit(dependency);
  return [...found];
}

/** `npm pack` of installed packages into a directory; returns the tarballs as `./file` paths. */
function packInstalled(names: string[], destination: string): string[] {
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", destination, ...names.map((name) => path.join(REPO, "node_modules", name))], REPO));
  return (packed as Array<{ filename: string }>).map((entry) => `./${entry.filename}`);
}

describe("the npm package, installed into another Pulumi project", function () {
  this.timeout(90_000);
  let consumer: string;
  let installed: string;
  let evaluation: Evaluation;

  before(async () => {
    consumer = fs.mkdtempSync(path.join(os.tmpdir(), "serverless-consumer-"));
    run("npm", ["pack", "--pack-destination", consumer, "--no-audit", "--no-fund"], REPO);
    const tarball = fs.readdirSync(consumer).find((file) => file.endsWith(".tgz"));
    expect(tarball, "npm pack wrote a tarball").to.be.a("string");
    for (const [file, text] of Object.entries(CONSUMER_FILES)) {
      fs.mkdirSync(path.dirname(path.join(consumer, file)), { recursive: true });
      fs.writeFileSync(path.join(consumer, file), text);
    }
    fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "shop", private: true }));
    // Offline, so from an empty npm cache too: our dependencies (esbuild with its binary for
    // this platform, cjs-module-lexer) come packed from this repository's installed copies,
    // the versions our lock file pins, and satisfy the tarball's ranges at the top of the
    // consumer's tree. The peers are not installed but linked to this repository's copies
    // below, as one copy of each, the way a consumer's own @pulumi/pulumi and @pulumi/aws
    // serve the package.
    const dependencyTarballs = packInstalled(installedDependencyClosure(), consumer);
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--legacy-peer-deps", `./${tarball}`, ...dependencyTarballs, "./vendor/greeting"], consumer);
    fs.mkdirSync(path.join(consumer, "node_modules", "@pulumi"), { recursive: true });
    for (const peer of ["@pulumi/pulumi", "@pulumi/aws"]) {
      fs.symlinkSync(path.join(REPO, "node_modules", peer), path.join(consumer, "node_modules", peer), "dir");
    }
    installed = path.join(consumer, "node_modules", PACKAGE);

    const cwd = process.cwd();
    process.chdir(consumer); // what `pulumi up` does: the program runs in its project root
    try {
      evaluation = await evaluateProgram(path.join(consumer, "index.ts"), { project: "shop", stack: "dev", config: { "aws:region": "eu-west-1" } });
    } finally {
      process.chdir(cwd);
    }
  });

  after(() => {
    if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
  });

  it("ships only compiled JavaScript, declarations and the package documents", () => {
    const files: string[] = [];
    const walk = (dir: string) => fs.readdirSync(dir, { withFileTypes: true }).forEach((entry) =>
      entry.isDirectory() ? walk(path.join(dir, entry.name)) : files.push(path.relative(installed, path.join(dir, entry.name))));
    walk(installed);
    const outsideDist = files.filter((file) => !file.startsWith("dist/")).sort();
    // npm always packs `main`: the TypeScript entry the Pulumi plugin host loads from a checkout.
    expect(outsideDist).to.deep.equal(["CHANGELOG.md", "README.md", "components/index.ts", "package.json"]);
    for (const module of ["index", "secure-function", "serverless-api", "queue-worker", "stream-worker", "event-filters", "bundling"]) {
      expect(files, module).to.include.members([`dist/${module}.js`, `dist/${module}.d.ts`]);
    }
    expect(files.some((file) => /test|handlers|\.test\./.test(file)), files.join(", ")).to.equal(false);
  });

  it("resolves through `exports` to the compiled build, with no copy of @pulumi/* of its own", () => {
    // Resolved as the consumer's program resolves it (from here, Node would self-reference this repo).
    const fromConsumer = createRequire(path.join(consumer, "index.ts"));
    expect(fromConsumer.resolve(PACKAGE)).to.equal(path.join(installed, "dist", "index.js"));
    expect(require.cache[path.join(installed, "dist", "secure-function.js")], "the evaluated program loaded the installed build").not.to.equal(undefined);
    expect(fromConsumer.resolve("@pulumi/aws")).to.equal(require.resolve("@pulumi/aws"));
    expect(fs.existsSync(path.join(installed, "node_modules", "@pulumi")), "nested @pulumi packages").to.equal(false);
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
    // The SDK clients: the deployment runner and hooks are bundled from the package at the consumer's `pulumi up`.
    expect(Object.keys(manifest.dependencies)).to.deep.equal(["@aws-sdk/client-codedeploy", "@aws-sdk/client-lambda", "cjs-module-lexer", "esbuild"]);
    expect(manifest.peerDependencies).to.have.keys("@pulumi/pulumi", "@pulumi/aws", "typescript");
    expect(manifest.peerDependenciesMeta).to.deep.equal({ typescript: { optional: true } });
  });

  it("type-checks a consumer program against the declarations alone", () => {
    const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
    fs.symlinkSync(path.join(REPO, "node_modules", "typescript"), path.join(consumer, "node_modules", "typescript"), "dir");
    expect(() => run(process.execPath, [tsc, "--noEmit", "-p", "."], consumer)).not.to.throw();
    // The same check fails for an argument the declarations do not allow.
    fs.writeFileSync(path.join(consumer, "index.ts"), `${CONSUMER_FILES["index.ts"]}new QueueWorker("bad", { handler: "src/work.handler", runtime: "python3.12" });\n`);
    let output = "";
    try {
      run(process.execPath, [tsc, "--noEmit", "-p", "."], consumer);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).to.match(/python3\.12/);
  });

  it("registers the components under the consumer's stack, with the children they own", () => {
    const byType = (type: string) => evaluation.resources.filter((resource) => resource.type === type).map((resource) => resource.name).sort();
    expect(byType("serverless-components:index:QueueWorker")).to.deep.equal(["jobs"]);
    expect(byType("serverless-components:index:ServerlessApi")).to.deep.equal(["shop-api"]);
    expect(byType("serverless-components:index:EventWorker")).to.deep.equal(["daily"]);
    expect(byType("aws:scheduler/schedule:Schedule")).to.deep.equal(["daily-report"]);
    expect(byType("serverless-components:index:StreamWorker")).to.deep.equal(["clicks"]);
    const functions = ["clicks-consumer", "daily-function", "jobs-consumer", "partners-hello", "reports", "reports-before-traffic", "reports-deployer", "shop-api-hello"];
    expect(byType("serverless-components:index:SecureFunction")).to.deep.equal(functions);
    expect(byType("aws:lambda/function:Function")).to.deep.equal(functions);
    expect(byType("serverless-components:index:RestApi")).to.deep.equal(["partners"]);
    expect(byType("aws:codedeploy/deploymentGroup:DeploymentGroup")).to.deep.equal(["reports-deployment-group"]);
    expect(byType("aws:lambda/eventSourceMapping:EventSourceMapping")).to.deep.equal(["clicks-mapping", "jobs-mapping"]);
    const hello = evaluation.resources.find((resource) => resource.type === "aws:lambda/function:Function" && resource.name === "shop-api-hello")!;
    expect(hello.inputs.name).to.equal("shop-dev-shop-api-hello");
    expect(hello.inputs.memorySize).to.equal(256);
    expect(hello.parent).to.match(/serverless-components:index:ServerlessApi\$serverless-components:index:SecureFunction::shop-api-hello$/);
    expect(evaluation.outputs.url).to.match(/^https:\/\/.+\.execute-api\.eu-west-1\.amazonaws\.com\/$/);
    expect(evaluation.outputs.queueUrl).to.equal("https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dev-jobs");
  });

  it("bundles the consumer's own TypeScript handler with the consumer's own dependency", async () => {
    const hello = evaluation.resources.find((resource) => resource.type === "aws:lambda/function:Function" && resource.name === "shop-api-hello")!;
    const files = await archiveFiles(hello);
    expect(Object.keys(files)).to.deep.equal(["index.mjs"]);
    expect(files["index.mjs"]).to.include(GREETING_MARK);
    expect(fs.existsSync(path.join(consumer, "node_modules", ".cache", "serverless-components")), "bundle cache in the consumer's project").to.equal(true);
  });

  it("bundles the deployment runner and the consumer's hook from the installed package, with the SDK clients they call", async () => {
    const bundleOf = async (name: string) => (await archiveFiles(evaluation.resources.find((resource) => resource.type === "aws:lambda/function:Function" && resource.name === name)!))["index.mjs"];
    const runner = await bundleOf("reports-deployer");
    expect(runner).to.include("CreateDeployment").and.include("GetAlias");
    const hook = await bundleOf("reports-before-traffic");
    expect(hook).to.include(CHECK_MARK).and.include("PutLifecycleEventHookExecutionStatus");
  });
});
