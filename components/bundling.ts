import { createHash } from "crypto";
import * as fs from "fs";
import { createRequire } from "module";
import * as path from "path";
import { parse as lexCommonJs } from "cjs-module-lexer";
import * as esbuild from "esbuild";
import * as pulumi from "@pulumi/pulumi";
import { declaredParameters } from "./handler-signature";

/** How a handler is bundled. */
export interface BundlingOptions {
  /**
   * Minify the bundle: smaller archives and faster module loading.
   * @default true
   */
  minify?: boolean;
  /**
   * Ship a source map beside the bundle and turn on `--enable-source-maps`, so stack
   * traces name the TypeScript lines. Costs cold-start time for every function start.
   * @default false
   */
  sourceMap?: boolean;
  /**
   * Packages left out of the bundle because the runtime provides them, e.g. `@aws-sdk/*`
   * (the Lambda Node.js runtime ships AWS SDK v3).
   * @default [] (everything is bundled: the SDK version is the one you tested)
   */
  external?: string[];
}

export const BUNDLING_DEFAULTS: Required<BundlingOptions> = { minify: true, sourceMap: false, external: [] };

/**
 * Credential providers the SDK reaches only through dynamic `import()` when no credentials
 * are in the environment. Lambda always puts the role's credentials there, so these never
 * load in a function; left out, they save about 130 KB per bundle and its parse time. Off
 * Lambda they resolve from node_modules (or the Lambda runtime's own SDK copy).
 */
export const LAZY_CREDENTIAL_PROVIDERS = [
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-http",
  "@smithy/credential-provider-imds",
];

/** The entry file inside the archive; the Lambda handler setting is `index.<export>`. */
export const BUNDLE_FILE = "index.mjs";

const SOURCE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"];

/** `handlers/orders/get-order.handler` split into its module and export name. */
export interface HandlerReference {
  /** The module path as written, without the export. */
  modulePath: string;
  exportName: string;
}

/** Splits `path/to/file.exportName` at its last dot. Returns undefined for malformed input. */
export function parseHandler(handler: string): HandlerReference | undefined {
  const match = /^(.+)\.([A-Za-z_$][\w$]*)$/.exec(handler);
  if (!match || match[1].endsWith("/")) return undefined;
  return { modulePath: match[1], exportName: match[2] };
}

/** The source file a handler module names, trying the usual extensions; undefined when none exists. */
export function resolveHandlerFile(modulePath: string, projectRoot: string): string | undefined {
  const base = path.resolve(projectRoot, modulePath);
  const candidates = [base, ...SOURCE_EXTENSIONS.map((extension) => base + extension)];
  return candidates.find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
}

/** A relative import's source file as TypeScript resolves it (`./x`, or `./x.js` meaning x.ts); undefined for packages. */
function resolveRelativeImport(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  return resolveHandlerFile(specifier.replace(/\.[cm]?js$/, ""), path.dirname(fromFile));
}

/**
 * The esbuild options for one handler: a single ESM file for Node.js, everything bundled
 * except `external`. Paths are relative to `projectRoot`, so the output is the same on
 * every machine and an unchanged handler gives a byte-identical archive.
 */
export function esbuildOptions(entryFile: string, projectRoot: string, options: Required<BundlingOptions>): esbuild.BuildOptions {
  return {
    entryPoints: [entryFile],
    absWorkingDir: projectRoot,
    outfile: path.join(projectRoot, BUNDLE_FILE),
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    // The oldest runtime a function may choose (LambdaRuntime) is nodejs20.x.
    target: "node20",
    format: "esm",
    mainFields: ["module", "main"],
    minify: options.minify,
    sourcemap: options.sourceMap ? "linked" : false,
    external: [...LAZY_CREDENTIAL_PROVIDERS, ...options.external],
    legalComments: "none",
    logLevel: "silent",
    // CommonJS code inside an ES module still calls require() for Node built-ins (esbuild's
    // require shim looks for this name, and renames any `require` a module declares itself)...
    banner: { js: "import{createRequire as __createRequire}from'module';const require=__createRequire(import.meta.url);" },
    // ...and reads its own location: the bundle's. `define` replaces only free references,
    // so a module's own `const __dirname = ...` keeps its value and cannot collide.
    define: { __dirname: "import.meta.dirname", __filename: "import.meta.filename" },
  };
}

/**
 * The esbuild options for a CommonJS handler: the same bundle, entered through a one-line
 * ES module that re-exports `exportName`. esbuild gives a CommonJS entry only a `default`
 * export in ESM output, and Lambda looks up `index.<exportName>` by name.
 */
export function commonJsEntryOptions(entryFile: string, exportName: string, projectRoot: string, options: Required<BundlingOptions>): esbuild.BuildOptions {
  const { entryPoints: _entryPoints, ...common } = esbuildOptions(entryFile, projectRoot, options);
  const specifier = `./${path.relative(projectRoot, entryFile).split(path.sep).join("/")}`;
  return { ...common, stdin: { contents: `export { ${exportName} } from ${JSON.stringify(specifier)};`, resolveDir: projectRoot, loader: "js" } };
}

/** A module whose export wraps a handler: `export const <exportName> = wrap(userExport)` (a deployment hook). */
export interface HandlerWrapper {
  /** The wrapper module, absolute. */
  file: string;
  /** Its export that takes the user's export and returns the Lambda handler. */
  exportName: string;
}

/**
 * The esbuild options for a generated entry: the user's `exportName`, passed through
 * `wrapper`, exported under the same name. Both modules are imported by absolute path (the
 * wrapper may live in node_modules, outside the user's folders); `import * as` reads a
 * CommonJS module's `exports` as well as an ES module's named exports.
 */
export function wrappedEntryOptions(entryFile: string, exportName: string, wrapper: HandlerWrapper, projectRoot: string, options: Required<BundlingOptions>): esbuild.BuildOptions {
  const { entryPoints: _entryPoints, ...common } = esbuildOptions(entryFile, projectRoot, options);
  const contents = [
    `import * as user from ${JSON.stringify(entryFile)};`,
    `import { ${wrapper.exportName} as wrap } from ${JSON.stringify(wrapper.file)};`,
    // Exported by name, not `export const`, so a check exported as `default` works too.
    `const wrapped = wrap(user[${JSON.stringify(exportName)}]);`,
    `export { wrapped as ${exportName} };`,
  ].join("\n");
  return { ...common, stdin: { contents, resolveDir: projectRoot, loader: "js" } };
}

/** esbuild's name for the `stdin` entry in the metafile: not a file to watch. */
const STDIN_INPUT = "<stdin>";

/**
 * The names a CommonJS module exports, as Node's own ESM loader detects them (cjs-module-lexer:
 * `exports.x =`, `module.exports.x =`, `module.exports = { x }`, `Object.defineProperty`),
 * following `module.exports = require(...)` re-exports. TypeScript is stripped first.
 */
export function commonJsExports(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  let source = fs.readFileSync(file, "utf8");
  if (/\.[cm]?ts$/.test(file)) source = esbuild.transformSync(source, { loader: "ts" }).code;
  const { exports, reexports } = lexCommonJs(source);
  const names = new Set(exports.filter((name) => name !== "__esModule"));
  const requireFrom = createRequire(file);
  for (const specifier of reexports) {
    try {
      for (const name of commonJsExports(requireFrom.resolve(specifier), seen)) names.add(name);
    } catch {
      // An unresolvable re-export adds nothing, as in Node.
    }
  }
  return [...names];
}

/** The files of a bundled handler, by archive path. */
export interface Bundle {
  files: Record<string, string>;
  /** Total size of the files, in bytes. */
  bytes: number;
  /**
   * The parameters the handler declares, as `Function.length` counts them, read from its
   * source (components/handler-signature.ts); absent when the source does not show them.
   */
  handlerParameters?: string[];
}

/**
 * Bundles `entryFile` and checks that it exports `exportName`. Throws an Error that names
 * the file and the problem when the build fails or the export is missing.
 */
export function bundleHandler(entryFile: string, exportName: string, projectRoot: string, options: Required<BundlingOptions>, wrapper?: HandlerWrapper): Bundle {
  return buildBundle(entryFile, exportName, projectRoot, options, wrapper).bundle;
}

type BuildResult = esbuild.BuildResult<{ write: false; metafile: true }>;

function runEsbuild(buildOptions: esbuild.BuildOptions, entryFile: string, projectRoot: string): BuildResult {
  try {
    return esbuild.buildSync(buildOptions) as BuildResult;
  } catch (error) {
    const failure = error as esbuild.BuildFailure;
    const details = failure.errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`).join("; ");
    throw new Error(`cannot bundle ${path.relative(projectRoot, entryFile)}: ${details || failure.message}`);
  }
}

function buildBundle(entryFile: string, exportName: string, projectRoot: string, options: Required<BundlingOptions>, wrapper?: HandlerWrapper): { bundle: Bundle; inputFiles: string[] } {
  const entry = path.relative(projectRoot, entryFile);
  let result = runEsbuild(esbuildOptions(entryFile, projectRoot, options), entryFile, projectRoot);
  let exported = result.metafile.outputs[BUNDLE_FILE].exports;
  const commonJs = result.metafile.inputs[entry.split(path.sep).join("/")]?.format === "cjs";
  if (commonJs) {
    exported = commonJsExports(entryFile);
    if (exported.includes(exportName)) result = runEsbuild(commonJsEntryOptions(entryFile, exportName, projectRoot, options), entryFile, projectRoot);
  }
  if (!exported.includes(exportName)) {
    const found = exported.length ? exported.join(", ") : "nothing";
    const hint = commonJs ? ` CommonJS exports are found as Node finds them: write \`exports.${exportName} = ...\` or \`module.exports = { ${exportName} }\`.` : "";
    throw new Error(`${entry} does not export "${exportName}" (it exports ${found}).${hint}`);
  }
  // The user's module is checked above as any handler is; the wrapped build is what ships.
  if (wrapper) result = runEsbuild(wrappedEntryOptions(entryFile, exportName, wrapper, projectRoot, options), entryFile, projectRoot);
  const output = result.metafile.outputs[BUNDLE_FILE];
  const files: Record<string, string> = {};
  let bytes = 0;
  for (const file of result.outputFiles) {
    files[path.basename(file.path)] = file.text;
    bytes += file.contents.byteLength;
  }
  // A wrapped export's own parameters are not the handler's.
  const handlerParameters = wrapper ? undefined : declaredParameters(entryFile, exportName, resolveRelativeImport);
  return { bundle: { files, bytes, ...(handlerParameters ? { handlerParameters } : {}) }, inputFiles: Object.keys(output.inputs).filter((input) => input !== STDIN_INPUT) };
}

/** What the bundle cache keeps per handler: the bundle and the content of every input file. */
interface CachedBundle {
  bundle: Bundle;
  /** Input files (relative to the project root) with size, mtime and content hash. */
  inputs: Record<string, { size: number; mtimeMs: number; sha256: string }>;
}

// Raised whenever the build itself changes (options, entry handling), so no older bundle is served.
const CACHE_FORMAT = 3;
const memoryCache = new Map<string, CachedBundle>();

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** True when every input file still has the content it had when the bundle was built. */
function inputsUnchanged(cached: CachedBundle, projectRoot: string): boolean {
  return Object.entries(cached.inputs).every(([file, recorded]) => {
    const absolute = path.resolve(projectRoot, file);
    try {
      const stat = fs.statSync(absolute);
      if (stat.size !== recorded.size) return false;
      // An unchanged stat is trusted; a touched file (checkout, copy) is compared by content.
      return stat.mtimeMs === recorded.mtimeMs || sha256(fs.readFileSync(absolute)) === recorded.sha256;
    } catch {
      return false;
    }
  });
}

function recordInputs(files: string[], projectRoot: string): CachedBundle["inputs"] {
  const inputs: CachedBundle["inputs"] = {};
  for (const file of files) {
    const absolute = path.resolve(projectRoot, file);
    const stat = fs.statSync(absolute);
    inputs[file] = { size: stat.size, mtimeMs: stat.mtimeMs, sha256: sha256(fs.readFileSync(absolute)) };
  }
  return inputs;
}

/**
 * {@link bundleHandler} behind a content-addressed cache, in memory and on disk under
 * `node_modules/.cache/serverless-components` of the project: a handler is rebuilt only
 * when one of the files it was built from, the options or esbuild changed. Evaluating a
 * stack whose handlers did not change then costs no esbuild run.
 */
export function bundleHandlerCached(entryFile: string, exportName: string, projectRoot: string, options: Required<BundlingOptions>, wrapper?: HandlerWrapper): Bundle {
  const wrapperKey = wrapper && { file: path.relative(projectRoot, wrapper.file), exportName: wrapper.exportName };
  const key = sha256(JSON.stringify([CACHE_FORMAT, esbuild.version, path.relative(projectRoot, entryFile), exportName, options, ...(wrapperKey ? [wrapperKey] : [])]));
  const cacheFile = path.join(projectRoot, "node_modules", ".cache", "serverless-components", `${key}.json`);
  let cached = memoryCache.get(cacheFile);
  if (!cached && fs.existsSync(cacheFile)) {
    try {
      cached = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as CachedBundle;
    } catch {
      cached = undefined; // a torn or foreign file: rebuild
    }
  }
  if (cached && inputsUnchanged(cached, projectRoot)) {
    memoryCache.set(cacheFile, cached);
    return cached.bundle;
  }
  const { bundle, inputFiles } = buildBundle(entryFile, exportName, projectRoot, options, wrapper);
  const fresh: CachedBundle = { bundle, inputs: recordInputs(inputFiles, projectRoot) };
  memoryCache.set(cacheFile, fresh);
  try {
    fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
    const temporary = `${cacheFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(fresh));
    fs.renameSync(temporary, cacheFile);
  } catch {
    // A read-only project still bundles; it just rebuilds next time.
  }
  return bundle;
}

/** The Lambda code archive of a bundle: identical files give an identical archive hash. */
export function bundleArchive(bundle: Bundle): pulumi.asset.AssetArchive {
  const assets: Record<string, pulumi.asset.Asset> = {};
  for (const [name, text] of Object.entries(bundle.files)) assets[name] = new pulumi.asset.StringAsset(text);
  return new pulumi.asset.AssetArchive(assets);
}
