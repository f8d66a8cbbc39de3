/**
 * The packagings of a handler compared by the benchmark, each written to a temporary
 * directory as the file a Lambda runtime would load: ours, what SST v3 and CDK's
 * NodejsFunction build with their defaults, and a naive tsc + node_modules zip.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";
import * as ts from "typescript";
import { BUNDLING_DEFAULTS, bundleHandler, BUNDLE_FILE } from "../components/bundling";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

export type PackagingId = "ours" | "sst" | "cdk" | "naive";

export interface Packaging {
  id: PackagingId;
  label: string;
}

export const PACKAGINGS: Packaging[] = [
  { id: "ours", label: "ours: bundleHandler(BUNDLING_DEFAULTS)" },
  { id: "sst", label: "SST v3: ESM, keepNames, SDK inside" },
  { id: "cdk", label: "CDK NodejsFunction: CJS, @aws-sdk/* external" },
  { id: "naive", label: "naive: tsc CJS + node_modules" },
];

/** One packaged handler: the file to load, how to load it, and what it ships. */
export interface Artifact {
  file: string;
  kind: "cjs" | "esm";
  /** Bytes of the code this packaging ships (for naive: filled in later with its packages). */
  bytes: number;
  note?: string;
}

/** Makes `dir/node_modules` resolve to the project's, as if the dependencies were installed there. */
function linkNodeModules(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
}

function writeFiles(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

/** 1. Exactly what SecureFunction deploys: `bundleHandler(..., BUNDLING_DEFAULTS)`. */
function buildOurs(entry: string, outDir: string): Artifact {
  const bundle = bundleHandler(path.join(PROJECT_ROOT, entry), "handler", PROJECT_ROOT, BUNDLING_DEFAULTS);
  writeFiles(outDir, bundle.files);
  return { file: path.join(outDir, BUNDLE_FILE), kind: "esm", bytes: bundle.bytes };
}

/**
 * 2. What a naive zip ships: every handler source transpiled by the TypeScript compiler with
 * the project's own compiler options (CommonJS), next to node_modules. Transpiled once for
 * all handlers; returns the directory that mirrors the project root.
 */
function transpileNaive(root: string): string {
  const configFile = ts.readConfigFile(path.join(PROJECT_ROOT, "tsconfig.json"), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, PROJECT_ROOT);
  const sources = fs
    .readdirSync(path.join(PROJECT_ROOT, "handlers"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));
  for (const source of sources) {
    const input = fs.readFileSync(path.join(PROJECT_ROOT, "handlers", source), "utf8");
    const { outputText, diagnostics } = ts.transpileModule(input, { compilerOptions: options, fileName: source, reportDiagnostics: true });
    if (diagnostics?.length) throw new Error(`tsc cannot transpile handlers/${source}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, "\n")}`);
    const out = path.join(root, "handlers", source.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
  }
  linkNodeModules(root);
  return root;
}

/** The handler's own transpiled files: the entry and the local modules it requires, transitively. */
function localClosureBytes(entryJs: string): number {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, "utf8");
    for (const [, spec] of text.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) visit(path.resolve(path.dirname(file), `${spec}.js`));
  };
  visit(entryJs);
  return [...seen].reduce((sum, file) => sum + fs.statSync(file).size, 0);
}

/**
 * 3. SST v3's deployed packaging with its defaults, as its Go builder sets esbuild up
 * (github.com/sst/sst, pkg/runtime/node/build.go at 08fa0a6; defaults in
 * platform/src/components/aws/function.ts): ESM, target esnext, keepNames, mainFields
 * module-first, everything bundled (the SDK too; only sharp and pg-native external), no
 * source map when deployed, and unminified: the `minify` flag reaches the builder only
 * when set, and is false otherwise. Its banner defines `require`, `__filename` and `__dirname`.
 */
function buildSst(entry: string, outDir: string): Artifact {
  const file = bundleEntry(entry, path.join(outDir, "index.mjs"), {
    format: "esm",
    target: "esnext",
    keepNames: true,
    mainFields: ["module", "main"],
    external: ["sharp", "pg-native"],
    banner: {
      js: [
        `import { createRequire as topLevelCreateRequire } from "module";`,
        `const require = topLevelCreateRequire(import.meta.url);`,
        `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url";`,
        `const __filename = topLevelFileUrlToPath(import.meta.url);`,
        `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url));`,
      ].join("\n"),
    },
  });
  return { file, kind: "esm", bytes: fs.statSync(file).size };
}

/**
 * 4. CDK's NodejsFunction with its defaults (github.com/aws/aws-cdk,
 * packages/aws-cdk-lib/aws-lambda-nodejs/lib/bundling.ts): esbuild with no format (CommonJS
 * on Node), the runtime's target (node24 for nodejs24.x), no minification, no source map,
 * esbuild's main fields, and `@aws-sdk/*` external: the SDK is the runtime's, here the
 * project's node_modules, resolved through a node_modules link next to the bundle.
 */
function buildCdk(entry: string, outDir: string): Artifact {
  const file = bundleEntry(entry, path.join(outDir, "index.js"), { target: "node24", external: ["@aws-sdk/*"] });
  return { file, kind: "cjs", bytes: fs.statSync(file).size, note: "+ runtime's SDK" };
}

/** Bundles `entry` (relative to the project root) for Node into `file` with a tool's own `options`; returns `file`. */
function bundleEntry(entry: string, file: string, options: esbuild.BuildOptions): string {
  esbuild.buildSync({
    entryPoints: [path.join(PROJECT_ROOT, entry)],
    absWorkingDir: PROJECT_ROOT,
    outfile: file,
    bundle: true,
    platform: "node",
    logLevel: "silent",
    ...options,
  });
  return file;
}

/** Builds every packaging of every handler under `workDir`; `entries` maps handler name to source file. */
export function buildAll(workDir: string, entries: Record<string, string>): Record<string, Record<PackagingId, Artifact>> {
  const naiveRoot = transpileNaive(path.join(workDir, "naive"));
  linkNodeModules(path.join(workDir, "cdk"));
  const artifacts: Record<string, Record<PackagingId, Artifact>> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const naiveEntry = path.join(naiveRoot, entry.replace(/\.ts$/, ".js"));
    artifacts[name] = {
      ours: buildOurs(entry, path.join(workDir, "ours", name)),
      naive: { file: naiveEntry, kind: "cjs", bytes: localClosureBytes(naiveEntry) },
      sst: buildSst(entry, path.join(workDir, "sst", name)),
      cdk: buildCdk(entry, path.join(workDir, "cdk", name)),
    };
  }
  return artifacts;
}

/**
 * Total size of the files of a package directory (symlinks not followed). A nested
 * node_modules is skipped: the packages in it are counted as packages of their own.
 */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") total += directoryBytes(full);
    else if (entry.isFile()) total += fs.statSync(full).size;
  }
  return total;
}

/**
 * The installed packages a set of loaded files belongs to (`node_modules/@scope/name` or
 * `node_modules/name`), by package directory: what a pruned production zip must carry.
 */
export function packageDirectories(files: string[]): string[] {
  const dirs = new Set<string>();
  for (const file of files) {
    const match = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(fs.realpathSync(file));
    if (match) dirs.add(match[1]);
  }
  return [...dirs].sort();
}
