// @ts-check
/**
 * `node --require ./tools/ts-register.cjs <file.ts> [args]`: the project's TypeScript on
 * plain Node, in one process, for the commands that start often (`npm run plan`, `dev`,
 * the benches). Each `.ts` file `require` reaches is compiled by esbuild (transpile only,
 * CommonJS, the tsconfig's options) once, and the output is kept under
 * `node_modules/.cache/ts-register/ts/`, named by the hash of the file's
 * content, its path, the options and esbuild's version. An unchanged file is read back
 * without loading esbuild; a changed file has another name, so a stale output is never
 * served. Cheaper than the tsx CLI, which starts a second Node and hooks every module
 * load, `node_modules` included, through its loader.
 *
 * It also turns on Node's compile cache (V8's code cache, checked against each file's
 * content by Node) in `node_modules/.cache/ts-register/v8/`: most of a plan's
 * time is V8 compiling `@pulumi/aws`, `@pulumi/pulumi` and the TypeScript compiler they load.
 *
 * Node 24's own type stripping is no substitute here: it leaves out parameter properties
 * (`constructor(private readonly x)`, used in components/, tools/ and local/) and needs
 * `.ts` extensions on relative imports.
 */
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
// Beside the bundle cache (node_modules/.cache/serverless-components), which the cold-start bench empties.
const CACHE_ROOT = path.join(ROOT, "node_modules", ".cache", "ts-register");
const CACHE_DIR = path.join(CACHE_ROOT, "ts");
Module.enableCompileCache(path.join(CACHE_ROOT, "v8"));
// Raised whenever the options below change shape, so no older output is served.
const FORMAT = 1;

const compilerOptions = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")).compilerOptions;
// esbuild's version without loading esbuild: its package.json is tiny.
const esbuildVersion = JSON.parse(fs.readFileSync(require.resolve("esbuild/package.json", { paths: [ROOT] }), "utf8")).version;
const salt = JSON.stringify([FORMAT, esbuildVersion, compilerOptions]);

/** @type {typeof import("esbuild") | undefined} */
let esbuild;

/**
 * The CommonJS for one TypeScript file, from the cache or freshly compiled.
 * @param {string} source
 * @param {string} filename
 */
function compile(source, filename) {
  const key = crypto.createHash("sha256").update(salt).update("\0").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // not compiled yet
  }
  esbuild ??= /** @type {typeof import("esbuild")} */ (require("esbuild"));
  const { code } = esbuild.transformSync(source, {
    loader: "ts",
    format: "cjs",
    platform: "node",
    target: "node22",
    sourcefile: filename,
    sourcemap: "inline",
    tsconfigRaw: { compilerOptions },
  });
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside and renamed, so a concurrent start never reads half a file.
    const temporary = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, code);
    fs.renameSync(temporary, cached);
  } catch {
    // A read-only checkout still runs; it compiles again next time.
  }
  return code;
}

/** @type {Record<string, (module: NodeJS.Module & { _compile(code: string, filename: string): void }, filename: string) => void>} */
const extensions = /** @type {any} */ (Module)._extensions;
extensions[".ts"] = (module, filename) => module._compile(compile(fs.readFileSync(filename, "utf8"), filename), filename);
// Stack traces point at the TypeScript (the engine pauses this while a program registers resources).
process.setSourceMapsEnabled(true);

module.exports = { compile, CACHE_DIR };
