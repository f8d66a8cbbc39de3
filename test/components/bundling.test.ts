import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import {
  BUNDLE_FILE, BUNDLING_DEFAULTS, bundleArchive, bundleHandler, bundleHandlerCached, commonJsEntryOptions, commonJsExports, esbuildOptions,
  LAZY_CREDENTIAL_PROVIDERS, parseHandler, resolveHandlerFile, type Bundle,
} from "../../components/bundling";

const ROOT = process.cwd();
const BANNER = "import{createRequire as __createRequire}from'module';const require=__createRequire(import.meta.url);";
const SOURCE = `import { join } from "path";\nexport const handler = async (event: { name?: string }) => ({ statusCode: 200, body: join("hi", event.name ?? "you") });\n`;

/** Writes a bundle's files to a fresh folder, imports its index.mjs there with Node, and returns the module. */
async function loadBundle(bundle: Bundle, root: string): Promise<Record<string, any>> {
  const out = fs.mkdtempSync(path.join(root, "bundle-"));
  for (const [name, text] of Object.entries(bundle.files)) fs.writeFileSync(path.join(out, name), text);
  return import(pathToFileURL(path.join(out, BUNDLE_FILE)).href);
}

/** A fresh project root in the temporary folder, holding `files`. */
function tempProject(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bundling-test-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

describe("bundling", () => {
  const roots: string[] = [];
  const project = (files: Record<string, string>) => {
    const root = tempProject(files);
    roots.push(root);
    return root;
  };
  after(() => {
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });

  describe("esbuildOptions", () => {
    it("builds one minified ESM file for Node, everything bundled, paths relative to the project root", () => {
      // A literal copy of the options on purpose: any change to them changes the bytes of
      // every deployed function (so every function redeploys) and may change where the bundle
      // runs (target, format, banner); such a change must be made here too, deliberately.
      expect(esbuildOptions("/repo/handlers/a.ts", "/repo", BUNDLING_DEFAULTS)).to.deep.equal({
        entryPoints: ["/repo/handlers/a.ts"],
        absWorkingDir: "/repo",
        outfile: path.join("/repo", "index.mjs"),
        bundle: true,
        write: false,
        metafile: true,
        platform: "node",
        target: "node20",
        format: "esm",
        mainFields: ["module", "main"],
        minify: true,
        sourcemap: false,
        external: LAZY_CREDENTIAL_PROVIDERS,
        legalComments: "none",
        logLevel: "silent",
        banner: { js: BANNER },
        define: { __dirname: "import.meta.dirname", __filename: "import.meta.filename" },
      });
      expect(BUNDLE_FILE).to.equal("index.mjs");
      expect(BUNDLING_DEFAULTS).to.deep.equal({ minify: true, sourceMap: false, external: [] });
    });

    it("passes minify, a linked source map and externals through", () => {
      const options = esbuildOptions("/repo/h.ts", "/repo", { minify: false, sourceMap: true, external: ["@aws-sdk/*"] });
      expect(options.minify).to.equal(false);
      expect(options.sourcemap).to.equal("linked");
      expect(options.external).to.deep.equal([...LAZY_CREDENTIAL_PROVIDERS, "@aws-sdk/*"]);
    });

    it("is a pure function: equal arguments give equal options, and its arguments are not changed", () => {
      const settings = { minify: true, sourceMap: true, external: ["yaml"] };
      const copy = JSON.parse(JSON.stringify(settings));
      const first = esbuildOptions("/a/b.ts", "/a", settings);
      const second = esbuildOptions("/a/b.ts", "/a", settings);
      expect(first).to.deep.equal(second);
      expect(first).not.to.equal(second);
      expect(settings).to.deep.equal(copy);
    });
  });

  describe("parseHandler", () => {
    const cases: Array<[string, { modulePath: string; exportName: string } | undefined]> = [
      ["handlers/orders/get-order.handler", { modulePath: "handlers/orders/get-order", exportName: "handler" }],
      ["./handlers/a.b.main", { modulePath: "./handlers/a.b", exportName: "main" }],
      ["/abs/path/file.ts.$export_1", { modulePath: "/abs/path/file.ts", exportName: "$export_1" }],
      ["file._private", { modulePath: "file", exportName: "_private" }],
      ["handler", undefined],
      ["handlers/get-order.", undefined],
      [".handler", undefined],
      ["handlers/.handler", undefined],
      ["handlers/get-order.1handler", undefined],
      ["handlers/get-order.my-handler", undefined],
      ["", undefined],
    ];
    for (const [handler, expected] of cases) {
      it(`${JSON.stringify(handler)} -> ${JSON.stringify(expected)}`, () => {
        expect(parseHandler(handler)).to.deep.equal(expected);
      });
    }
  });

  describe("resolveHandlerFile", () => {
    it("tries the module path as written, then the source extensions in order", () => {
      const root = project({ "h/a.ts": "", "h/a.js": "", "h/b.mjs": "", "h/c.cjs": "", "h/d.js": "", "h/d.mts": "", "h/exact.ts": "" });
      expect(resolveHandlerFile("h/a", root)).to.equal(path.join(root, "h/a.ts"));
      expect(resolveHandlerFile("h/b", root)).to.equal(path.join(root, "h/b.mjs"));
      expect(resolveHandlerFile("h/c", root)).to.equal(path.join(root, "h/c.cjs"));
      expect(resolveHandlerFile("h/d", root)).to.equal(path.join(root, "h/d.mts"));
      expect(resolveHandlerFile("h/exact.ts", root)).to.equal(path.join(root, "h/exact.ts"));
    });

    it("accepts an absolute module path and ignores folders", () => {
      const root = project({ "h/a.ts": "", "dir/inner.ts": "" });
      expect(resolveHandlerFile(path.join(root, "h/a"), "/somewhere/else")).to.equal(path.join(root, "h/a.ts"));
      expect(resolveHandlerFile("dir", root)).to.equal(undefined);
      expect(resolveHandlerFile("h/missing", root)).to.equal(undefined);
    });

    it("finds the fixtures from the repository root", () => {
      expect(resolveHandlerFile("test/fixtures/hello", ROOT)).to.equal(path.join(ROOT, "test/fixtures/hello.ts"));
      expect(resolveHandlerFile("test/fixtures/broken", ROOT)).to.equal(path.join(ROOT, "test/fixtures/broken.js"));
    });
  });

  describe("bundleHandler", () => {
    it("bundles a handler into index.mjs that runs on this Node and exports the handler", async () => {
      const root = project({ "src/fn.ts": SOURCE });
      const bundle = bundleHandler(path.join(root, "src/fn.ts"), "handler", root, BUNDLING_DEFAULTS);
      expect(Object.keys(bundle.files)).to.deep.equal(["index.mjs"]);
      expect(bundle.files["index.mjs"].startsWith(BANNER)).to.equal(true);
      expect(bundle.bytes).to.equal(Buffer.byteLength(bundle.files["index.mjs"]));
      const out = project({ "index.mjs": bundle.files["index.mjs"] });
      const module = await import(pathToFileURL(path.join(out, "index.mjs")).href);
      expect(await module.handler({ name: "ann" })).to.deep.equal({ statusCode: 200, body: path.join("hi", "ann") });
    });

    it("gives byte-identical files for the same source, even from another checkout folder", () => {
      const first = project({ "src/fn.ts": SOURCE });
      const second = project({ "src/fn.ts": SOURCE });
      for (const settings of [BUNDLING_DEFAULTS, { minify: false, sourceMap: true, external: [] }]) {
        const a = bundleHandler(path.join(first, "src/fn.ts"), "handler", first, settings);
        const again = bundleHandler(path.join(first, "src/fn.ts"), "handler", first, settings);
        const b = bundleHandler(path.join(second, "src/fn.ts"), "handler", second, settings);
        expect(again.files).to.deep.equal(a.files);
        expect(b.files).to.deep.equal(a.files);
        expect(b.bytes).to.equal(a.bytes);
        expect(JSON.stringify(a.files)).not.to.include(first);
        expect(JSON.stringify(a.files)).not.to.include(os.tmpdir());
      }
    });

    it("gives different bytes when the source changes", () => {
      const root = project({ "src/fn.ts": SOURCE });
      const before = bundleHandler(path.join(root, "src/fn.ts"), "handler", root, BUNDLING_DEFAULTS);
      fs.writeFileSync(path.join(root, "src/fn.ts"), SOURCE.replace("statusCode: 200", "statusCode: 201"));
      const after = bundleHandler(path.join(root, "src/fn.ts"), "handler", root, BUNDLING_DEFAULTS);
      expect(after.files["index.mjs"]).not.to.equal(before.files["index.mjs"]);
      expect(after.files["index.mjs"]).to.include("201");
    });

    it("ships a linked source map with relative sources when asked", () => {
      const root = project({ "src/fn.ts": SOURCE });
      const bundle = bundleHandler(path.join(root, "src/fn.ts"), "handler", root, { minify: true, sourceMap: true, external: [] });
      expect(Object.keys(bundle.files).sort()).to.deep.equal(["index.mjs", "index.mjs.map"]);
      expect(bundle.files["index.mjs"].trimEnd().endsWith("//# sourceMappingURL=index.mjs.map")).to.equal(true);
      expect(JSON.parse(bundle.files["index.mjs.map"]).sources).to.deep.equal(["src/fn.ts"]);
      expect(bundle.bytes).to.equal(Buffer.byteLength(bundle.files["index.mjs"]) + Buffer.byteLength(bundle.files["index.mjs.map"]));
    });

    it("leaves externals out of the bundle and bundles everything else", () => {
      const root = project({ "src/fn.ts": `import { thing } from "some-runtime-package";\nexport const handler = () => thing;\n` });
      const bundle = bundleHandler(path.join(root, "src/fn.ts"), "handler", root, { ...BUNDLING_DEFAULTS, external: ["some-runtime-package"] });
      expect(bundle.files["index.mjs"]).to.match(/from\s*"some-runtime-package"/);
      expect(() => bundleHandler(path.join(root, "src/fn.ts"), "handler", root, BUNDLING_DEFAULTS))
        .to.throw(/^cannot bundle src\/fn\.ts: src\/fn\.ts:1: Could not resolve "some-runtime-package"/);
    });

    it("names the exports it found when the handler's export is missing", () => {
      expect(() => bundleHandler(path.join(ROOT, "test/fixtures/orders.ts"), "handler", ROOT, BUNDLING_DEFAULTS))
        .to.throw('test/fixtures/orders.ts does not export "handler" (it exports get, list).');
      const root = project({ "empty.ts": "const x = 1;\n" });
      expect(() => bundleHandler(path.join(root, "empty.ts"), "handler", root, BUNDLING_DEFAULTS))
        .to.throw('empty.ts does not export "handler" (it exports nothing).');
    });

    it("names the file, line and esbuild's message for a syntax error", () => {
      expect(() => bundleHandler(path.join(ROOT, "test/fixtures/broken.js"), "handler", ROOT, BUNDLING_DEFAULTS))
        .to.throw('cannot bundle test/fixtures/broken.js: test/fixtures/broken.js:4: Expected "}" but found ";"');
    });
  });

  describe("CommonJS handlers", () => {
    // Each is bundled, written out and imported by Node, which is how Lambda loads index.mjs.
    const styles: Array<[string, string, string]> = [
      ["exports.handler =", "src/hello.js", `exports.handler = async (event) => ({ statusCode: 200, body: "exports " + event.name });\n`],
      ["module.exports.handler =", "src/hello.js", `module.exports.handler = async (event) => ({ statusCode: 200, body: "module.exports. " + event.name });\n`],
      ["module.exports = { handler }", "src/hello.js", `const path = require("path");\nasync function handler(event) { return { statusCode: 200, body: path.join("object", event.name) }; }\nmodule.exports = { handler, other: 1 };\n`],
      ["a .cjs file", "src/hello.cjs", `exports.handler = async (event) => ({ statusCode: 200, body: "cjs " + event.name });\n`],
      ["TypeScript compiled to CommonJS (__esModule)", "src/hello.js", `"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.handler = void 0;\nconst handler = async (event) => ({ statusCode: 200, body: "tsc " + event.name });\nexports.handler = handler;\n`],
      ["a CommonJS .ts file", "src/hello.ts", `exports.handler = async (event: { name: string }) => ({ statusCode: 200, body: "ts " + event.name });\n`],
      ["module.exports = require(...) of another module", "src/hello.js", `module.exports = require("./impl");\n`],
    ];
    for (const [style, file, source] of styles) {
      it(`bundles ${style} so that index.handler is the module's handler`, async () => {
        const root = project({ [file]: source, "src/impl.js": `exports.handler = async (event) => ({ statusCode: 200, body: "impl " + event.name });\n` });
        for (const settings of [BUNDLING_DEFAULTS, { minify: false, sourceMap: true, external: [] }]) {
          const bundle = bundleHandler(path.join(root, file), "handler", root, settings);
          const module = await loadBundle(bundle, root);
          const response = await module.handler({ name: "ann" });
          expect(response.statusCode, style).to.equal(200);
          expect(response.body, style).to.match(/ann$/);
        }
      });
    }

    it("refuses a CommonJS module without the export, naming the names it does export", () => {
      const root = project({ "src/hello.js": `exports.main = async () => 1;\nmodule.exports.other = 2;\n`, "src/empty.cjs": `const x = 1;\n` });
      expect(() => bundleHandler(path.join(root, "src/hello.js"), "handler", root, BUNDLING_DEFAULTS))
        .to.throw('src/hello.js does not export "handler" (it exports main, other). CommonJS exports are found as Node finds them: write `exports.handler = ...` or `module.exports = { handler }`.');
      expect(() => bundleHandler(path.join(root, "src/empty.cjs"), "handler", root, BUNDLING_DEFAULTS))
        .to.throw('src/empty.cjs does not export "handler" (it exports nothing). CommonJS');
    });

    it("enters through a one-line ES module that re-exports the handler, by a path relative to the project root", () => {
      const options = commonJsEntryOptions("/repo/src/legacy.cjs", "main", "/repo", BUNDLING_DEFAULTS);
      expect(options.entryPoints).to.equal(undefined);
      expect(options.stdin).to.deep.equal({ contents: 'export { main } from "./src/legacy.cjs";', resolveDir: "/repo", loader: "js" });
      const { entryPoints: _entryPoints, ...common } = esbuildOptions("/repo/src/legacy.cjs", "/repo", BUNDLING_DEFAULTS);
      const { stdin: _stdin, ...rest } = options;
      expect(rest).to.deep.equal(common);
    });

    it("reads CommonJS export names as Node does, following re-exports, without __esModule", () => {
      const root = project({
        "a.js": `Object.defineProperty(exports, "__esModule", { value: true });\nexports.one = 1;\nmodule.exports = require("./b");\n`,
        "b.js": `const two = 2, three = 3;\nmodule.exports = { two, three };\nmodule.exports = require("./a");\n`,
      });
      expect(commonJsExports(path.join(root, "a.js")).sort()).to.deep.equal(["one", "three", "two"]);
    });

    it("rebuilds the cached bundle of a CommonJS handler when the module changes", () => {
      const root = project({ "src/hello.js": `exports.handler = async () => "first";\n` });
      const first = bundleHandlerCached(path.join(root, "src/hello.js"), "handler", root, BUNDLING_DEFAULTS);
      fs.writeFileSync(path.join(root, "src/hello.js"), `exports.handler = async () => "second, and longer";\n`);
      const second = bundleHandlerCached(path.join(root, "src/hello.js"), "handler", root, BUNDLING_DEFAULTS);
      expect(second.files["index.mjs"]).to.include("second, and longer");
      expect(first.files["index.mjs"]).to.include("first");
    });
  });

  describe("what CommonJS code expects in the ES module bundle", () => {
    it("gives a dependency that reads __dirname and __filename at load time the bundle's location, and require()", async () => {
      for (const settings of [BUNDLING_DEFAULTS, { minify: false, sourceMap: false, external: [] }]) {
        const bundle = bundleHandler(path.join(ROOT, "test/fixtures/location.mjs"), "handler", ROOT, settings);
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "bundling-location-"));
        roots.push(out);
        fs.writeFileSync(path.join(out, BUNDLE_FILE), bundle.files[BUNDLE_FILE]);
        const module = await import(pathToFileURL(path.join(out, BUNDLE_FILE)).href);
        const bundleFile = path.join(fs.realpathSync(out), BUNDLE_FILE);
        const { own, dependency } = await module.handler();
        expect(dependency).to.deep.equal({ directory: path.dirname(bundleFile), file: bundleFile, dataFile: path.join(path.dirname(bundleFile), "data.json") });
        // The handler's own top-level __dirname and __filename are its own, not redefined.
        expect(own).to.deep.equal({ directory: path.dirname(bundleFile), file: bundleFile });
      }
    });

    it("loads an ES module that declares its own top-level __dirname and __filename when nothing else in the bundle uses them", async () => {
      // A banner declaring them would collide here: esbuild renames a module's own name only
      // when some other module refers to the free one.
      const root = project({
        "src/fn.mjs": `import { dirname } from "path";\nimport { fileURLToPath } from "url";\nconst __filename = fileURLToPath(import.meta.url);\nconst __dirname = dirname(__filename);\nexport const handler = async () => ({ __dirname, __filename });\n`,
      });
      for (const settings of [BUNDLING_DEFAULTS, { minify: false, sourceMap: false, external: [] }]) {
        const bundle = bundleHandler(path.join(root, "src/fn.mjs"), "handler", root, settings);
        const module = await loadBundle(bundle, root);
        const { __dirname: directory, __filename: file } = await module.handler();
        expect(path.basename(file)).to.equal(BUNDLE_FILE);
        expect(directory).to.equal(path.dirname(file));
      }
    });

    it("leaves a module's own top-level __dirname alone, even when its value differs from the bundle's location", async () => {
      const root = project({
        "src/fn.mjs": `import { where } from "./dep.cjs";\nconst __dirname = "declared by the handler";\nexport const handler = async () => ({ own: __dirname, dependency: where, type: typeof require });\n`,
        "src/dep.cjs": `exports.where = __dirname;\n`,
      });
      for (const settings of [BUNDLING_DEFAULTS, { minify: false, sourceMap: false, external: [] }]) {
        const bundle = bundleHandler(path.join(root, "src/fn.mjs"), "handler", root, settings);
        const module = await loadBundle(bundle, root);
        const { own, dependency, type } = await module.handler();
        expect(own).to.equal("declared by the handler");
        expect(dependency).to.be.a("string").and.not.equal("declared by the handler");
        expect(type).to.equal("function");
      }
    });
  });

  describe("the SDK's lazy credential providers", () => {
    it("stay out of a bundle that uses an AWS client, loaded only by dynamic import", () => {
      const bundle = bundleHandler(path.join(ROOT, "handlers/orders/get-order.ts"), "handler", ROOT, BUNDLING_DEFAULTS);
      const code = bundle.files["index.mjs"];
      for (const provider of LAZY_CREDENTIAL_PROVIDERS) {
        expect(code, provider).to.include(`import("${provider}")`);
        expect(code, provider).not.to.match(new RegExp(`from\\s*"${provider}"`));
      }
      expect(bundle.bytes).to.be.below(300_000);
    });
  });

  describe("bundleHandlerCached", () => {
    const entry = (root: string) => path.join(root, "src/fn.ts");
    const cacheDir = (root: string) => path.join(root, "node_modules/.cache/serverless-components");
    const HELPER = `export const greeting = "hello";\n`;
    const USES_HELPER = `import { greeting } from "./helper";\nexport const handler = async () => greeting;\n`;

    it("gives what bundleHandler gives, and the same bundle again while no input changed", () => {
      const root = project({ "src/fn.ts": USES_HELPER, "src/helper.ts": HELPER });
      const first = bundleHandlerCached(entry(root), "handler", root, BUNDLING_DEFAULTS);
      expect(first).to.deep.equal(bundleHandler(entry(root), "handler", root, BUNDLING_DEFAULTS));
      expect(bundleHandlerCached(entry(root), "handler", root, BUNDLING_DEFAULTS)).to.equal(first);
      expect(fs.readdirSync(cacheDir(root))).to.have.length(1);
    });

    it("rebuilds when any input file changes, not only the entry", () => {
      const root = project({ "src/fn.ts": USES_HELPER, "src/helper.ts": HELPER });
      const first = bundleHandlerCached(entry(root), "handler", root, BUNDLING_DEFAULTS);
      fs.writeFileSync(path.join(root, "src/helper.ts"), HELPER.replace("hello", "howdy"));
      const second = bundleHandlerCached(entry(root), "handler", root, BUNDLING_DEFAULTS);
      expect(second.files["index.mjs"]).to.include("howdy");
      expect(second.files["index.mjs"]).not.to.equal(first.files["index.mjs"]);
    });

    it("reuses the disk cache of another process, trusting content over timestamps", () => {
      const builder = project({ "src/fn.ts": USES_HELPER, "src/helper.ts": HELPER });
      bundleHandlerCached(entry(builder), "handler", builder, BUNDLING_DEFAULTS);
      const [cacheName] = fs.readdirSync(cacheDir(builder));
      const cached = JSON.parse(fs.readFileSync(path.join(cacheDir(builder), cacheName), "utf8"));
      // A second project with the same files (new timestamps), whose cache was left by
      // "another process": a marked bundle proves it is served from that file.
      const reader = project({ "src/fn.ts": USES_HELPER, "src/helper.ts": HELPER });
      cached.bundle.files["index.mjs"] = "// served from the disk cache";
      fs.mkdirSync(cacheDir(reader), { recursive: true });
      fs.writeFileSync(path.join(cacheDir(reader), cacheName), JSON.stringify(cached));
      expect(bundleHandlerCached(entry(reader), "handler", reader, BUNDLING_DEFAULTS).files["index.mjs"]).to.equal("// served from the disk cache");
    });

    it("rebuilds over a cache file that is not JSON", () => {
      const root = project({ "src/fn.ts": USES_HELPER, "src/helper.ts": HELPER });
      const builder = project({ "src/fn.ts": USES_HELPER, "src/helper.ts": HELPER });
      bundleHandlerCached(entry(builder), "handler", builder, BUNDLING_DEFAULTS);
      const [cacheName] = fs.readdirSync(cacheDir(builder));
      fs.mkdirSync(cacheDir(root), { recursive: true });
      fs.writeFileSync(path.join(cacheDir(root), cacheName), "{ torn");
      expect(bundleHandlerCached(entry(root), "handler", root, BUNDLING_DEFAULTS).files["index.mjs"]).to.include("hello");
    });
  });

  describe("bundleArchive", () => {
    it("holds each bundle file as a string asset under its archive path", async () => {
      const archive = bundleArchive({ files: { "index.mjs": "export const handler = 1;", "index.mjs.map": "{}" }, bytes: 27 });
      expect(archive).to.be.instanceOf(pulumi.asset.AssetArchive);
      const assets = await archive.assets;
      expect(Object.keys(assets)).to.deep.equal(["index.mjs", "index.mjs.map"]);
      expect(await (assets["index.mjs"] as pulumi.asset.StringAsset).text).to.equal("export const handler = 1;");
      expect(await (assets["index.mjs.map"] as pulumi.asset.StringAsset).text).to.equal("{}");
    });
  });
});
