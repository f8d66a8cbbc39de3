import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { expect } from "chai";
import { BUNDLE_FILE, BUNDLING_DEFAULTS, bundleHandler } from "../../components/bundling";

/** Each case: the handler's module (and any module it imports), and the parameters `Function.length` counts. */
const CASES: Array<[string, Record<string, string>, string[] | undefined]> = [
  ["an exported async arrow", { "h.ts": `export const handler = async (event: unknown, context: unknown) => ({ event, context });\n` }, ["event", "context"]],
  ["an exported callback-style function", { "h.ts": `export function handler(event: unknown, context: unknown, callback: (e: null, r: unknown) => void) { callback(null, { event, context }); }\n` }, ["event", "context", "callback"]],
  ["a function expression in a const, exported by name", { "h.mjs": `const main = function (event, context, done) { done(null, event); };\nexport { main as handler };\n` }, ["event", "context", "done"]],
  ["a default parameter (not counted, as in Function.length)", { "h.ts": `export const handler = (event: unknown, context: unknown, callback = () => undefined) => { callback(); return event; };\n` }, ["event", "context"]],
  ["a rest parameter (not counted)", { "h.ts": `export const handler = async (event: unknown, ...rest: unknown[]) => [event, rest];\n` }, ["event"]],
  ["a TypeScript this parameter (not counted)", { "h.ts": `export async function handler(this: unknown, event: unknown) { return event; }\n` }, ["event"]],
  ["a type assertion around the function", { "h.ts": `type Handler = (event: unknown, context: unknown, callback: unknown) => void;\nexport const handler = ((event, context, callback) => undefined) as Handler;\n` }, ["event", "context", "callback"]],
  ["a re-export from a TypeScript module written as ./impl.js", { "h.ts": `export { run as handler } from "./impl.js";\n`, "impl.ts": `export const run = (event: unknown, context: unknown, callback: unknown) => [event, context, callback];\n` }, ["event", "context", "callback"]],
  ["an imported function exported again", { "h.ts": `import { run } from "./impl";\nexport const handler = run;\n`, "impl.ts": `export function run(event: unknown) { return event; }\n` }, ["event"]],
  ["export * from a module", { "h.ts": `export * from "./impl";\n`, "impl.ts": `export const other = 1;\nexport const handler = async (event: unknown, context: unknown) => [event, context];\n` }, ["event", "context"]],
  ["exports.handler = function", { "h.js": `exports.handler = function (event, context, callback) { callback(null, event); };\n` }, ["event", "context", "callback"]],
  ["module.exports.handler = arrow", { "h.js": `module.exports.handler = async (event) => event;\n` }, ["event"]],
  ["module.exports = { handler } naming a function declaration", { "h.cjs": `function handler(event, context, callback) { callback(null, event); }\nmodule.exports = { handler };\n` }, ["event", "context", "callback"]],
  ["module.exports = { handler(...) {} }", { "h.js": `module.exports = { handler(event, context) { return [event, context]; }, other: 1 };\n` }, ["event", "context"]],
  ["tsc's CommonJS output", { "h.js": `"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.handler = void 0;\nconst handler = (event, context, callback) => callback(null, event);\nexports.handler = handler;\n` }, ["event", "context", "callback"]],
  ["a wrapper's result (unknown: only running it would tell)", { "h.ts": `const wrap = <T>(fn: T) => fn;\nexport const handler = wrap(async (event: unknown) => event);\n` }, undefined],
];

describe("handler signature (the parameters a handler declares, from its source)", () => {
  const roots: string[] = [];
  after(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

  for (const [what, files, expected] of CASES) {
    it(`${what}: ${expected ? expected.join(", ") : "unknown"}, as the bundled handler's length says`, async () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "handler-signature-"));
      roots.push(root);
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, name), text);
      const entry = Object.keys(files)[0];
      const bundle = bundleHandler(path.join(root, entry), "handler", root, BUNDLING_DEFAULTS);
      expect(bundle.handlerParameters).to.deep.equal(expected);
      // What Lambda reads: the length of the handler the bundle exports.
      const out = fs.mkdtempSync(path.join(root, "out-"));
      fs.writeFileSync(path.join(out, BUNDLE_FILE), bundle.files[BUNDLE_FILE]);
      const module = await import(pathToFileURL(path.join(out, BUNDLE_FILE)).href);
      expect(module.handler.length).to.equal(expected?.length ?? 1);
    });
  }
});
