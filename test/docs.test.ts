/**
 * The documentation cannot drift from the code. Every fenced block of README.md and
 * docs/**\/*.md is checked by its language:
 *
 *   ```ts       type-checked against the real code, all blocks in one tsc run; a block is
 *               written as a file at the project root ("./components", "./handlers/..."),
 *               and "@orders-platform/serverless-components" is the library in components/
 *   ```sh       every command checked (see checkCommand): the npm script exists, and the
 *               arguments of `npm run plan`, `npm run cost` and `npm run dev` parse with the tools' own
 *               parsers, so a removed flag or subcommand turns this test red
 *   ```text     output shown to the reader; its lines that start with "$ " are commands,
 *               checked as in sh
 *   ```mermaid  diagrams, not checked
 *
 * A block that is illustrative only (another language's SDK, another project's files)
 * carries the mark `<!-- docs-test: illustrative -->` on the line before its fence and is
 * skipped. A block in any other language, or without one, fails the test: mark it or tag it.
 * Inline code spans that start with `npm ` are commands too, and every relative link must
 * resolve, to a file and, with a #fragment, to a heading of that file. docs/orders-api.md
 * must state the handlers' limits and every status and error code they answer with.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDevCommand } from "../local/cli";
import { parseCostArguments } from "../tools/cost";
import { parseFollowArguments } from "../tools/deployments";
import { parsePlanArguments } from "../tools/plan";
import { listStacks } from "../tools/stack-config";

const ROOT = path.resolve(__dirname, "..");
const ILLUSTRATIVE_MARK = "<!-- docs-test: illustrative -->";
const SCRIPTS: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
/** npm's own commands that the docs use; `npm <anything else>` is a mistake. */
const NPM_COMMANDS = ["ci", "install", "pack", "publish", "test"];
/** Programs the docs may show that cannot be run offline; any other program is a mistake. */
const OTHER_PROGRAMS = ["pulumi", "curl", "export", "openssl", "aws", "node", "head"];

interface Block {
  file: string;
  /** 1-based line of the block's first content line. */
  line: number;
  language: string;
  illustrative: boolean;
  content: string;
}

function markdownFiles(): string[] {
  const walk = (directory: string): string[] => fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    return entry.isDirectory() ? walk(full) : entry.name.endsWith(".md") ? [full] : [];
  });
  return [path.join(ROOT, "README.md"), ...walk(path.join(ROOT, "docs"))];
}

/** The fenced blocks of a Markdown file, and its text outside them (fences blanked, lines kept). */
function parseMarkdown(file: string): { blocks: Block[]; prose: string } {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const blocks: Block[] = [];
  const prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) {
      prose.push(lines[i]);
      continue;
    }
    const start = i;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    if (end < 0) throw new Error(`${path.relative(ROOT, file)}:${start + 1}: a fence that never closes`);
    blocks.push({
      file, line: start + 2, language: open[1],
      illustrative: lines[start - 1]?.trim() === ILLUSTRATIVE_MARK,
      content: lines.slice(start + 1, end).join("\n"),
    });
    for (let j = start; j <= end; j++) prose.push("");
    i = end;
  }
  return { blocks, prose: prose.join("\n") };
}

const DOCS = markdownFiles().map((file) => ({ file, ...parseMarkdown(file) }));
const where = (file: string, line: number) => `${path.relative(ROOT, file)}:${line}`;

/**
 * Shell words of one line: quotes removed, comments dropped; operators (&&, |, >, ;) as
 * their own words, except that a placeholder such as <file> is a word, as the reader takes it.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      if (close < 0) throw new Error(`unclosed ${c} in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, close);
      i = close;
    } else if (c === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "#" && word === undefined) {
      break;
    } else if (c === "<" && word === undefined && /^<[\w .-]+>/.test(line.slice(i))) {
      const placeholder = /^<[\w .-]+>/.exec(line.slice(i))![0];
      word = placeholder;
      i += placeholder.length - 1;
    } else if ("&|;><".includes(c) && word === undefined) {
      const operator = /^(&&|\|\||>>|[&|;><])/.exec(line.slice(i))![1];
      words.push(operator);
      i += operator.length - 1;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The command lines of a block, continuation lines joined, with the offset of each first
 * line; in output (`prompted`), only lines after a "$ " prompt are commands.
 */
function commandLines(content: string, prompted: boolean): Array<{ text: string; offset: number }> {
  const lines = content.split("\n");
  const found: Array<{ text: string; offset: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (prompted && !lines[i].startsWith("$ ")) continue;
    const offset = i;
    let text = prompted ? lines[i].slice(2) : lines[i];
    while (text.endsWith("\\") && i + 1 < lines.length) text = `${text.slice(0, -1)} ${lines[++i]}`;
    found.push({ text, offset });
  }
  return found;
}

/** The commands of one command line, split at && || ; & and pipes; whether each one's output goes elsewhere. */
function commandsOf(line: string): Array<{ words: string[]; stdoutRedirected: boolean }> {
  const commands: Array<{ words: string[]; stdoutRedirected: boolean }> = [];
  let words: string[] = [];
  let redirected = false;
  const flush = () => {
    if (words.length > 0) commands.push({ words, stdoutRedirected: redirected });
    words = [];
    redirected = false;
  };
  const all = shellWords(line);
  for (let i = 0; i < all.length; i++) {
    const w = all[i];
    if (w === "&&" || w === "||" || w === ";" || w === "&") flush();
    else if (w === "|") { redirected = true; flush(); }
    else if (w === ">" || w === ">>") { redirected = true; i++; }
    else if (w === "<") i++;
    else words.push(w);
  }
  flush();
  return commands;
}

/** A word of usage notation rather than a value: `<stack>`, `[options]`. */
const isPlaceholder = (word: string) => /^[<[].*[>\]]$/.test(word);

/** What is wrong with a documented command, or undefined when nothing is. */
export function checkCommand(words: string[], stdoutRedirected: boolean): string | undefined {
  const [program, ...rest] = words;
  if (program === "npx") {
    const [tool, ...args] = rest;
    if (!fs.existsSync(path.join(ROOT, "node_modules", ".bin", tool))) return `npx ${tool}: no such tool in node_modules/.bin`;
    const missing = args.filter((a) => /\.(ts|js|json)$/.test(a) && !fs.existsSync(path.join(ROOT, a)));
    return missing.length > 0 ? `npx ${tool}: no such file ${missing.join(", ")}` : undefined;
  }
  if (program !== "npm") return OTHER_PROGRAMS.includes(program) ? undefined : `${program}: not a program the docs may show (see OTHER_PROGRAMS in test/docs.test.ts)`;
  const [command, ...afterCommand] = rest;
  if (command !== "run") {
    if (!NPM_COMMANDS.includes(command)) return `npm ${command}: not an npm command the docs use`;
    if (command === "test" && SCRIPTS.test === undefined) return "npm test: no test script";
    const prefix = afterCommand.indexOf("--prefix");
    if (prefix >= 0 && !fs.existsSync(path.join(ROOT, afterCommand[prefix + 1], "package.json"))) return `npm --prefix ${afterCommand[prefix + 1]}: no package.json there`;
    return undefined;
  }
  const silent = afterCommand[0] === "-s" || afterCommand[0] === "--silent";
  const [script, ...scriptArgs] = silent ? afterCommand.slice(1) : afterCommand;
  if (script === undefined) return undefined; // `npm run -s`, the flag itself
  if (SCRIPTS[script] === undefined) return `npm run ${script}: no such script in package.json`;
  if (stdoutRedirected && !silent) return `npm run ${script} with its output redirected: npm's banner would come first; write npm run -s ${script}`;
  const args = scriptArgs[0] === "--" ? scriptArgs.slice(1) : scriptArgs;
  if (scriptArgs.length > 0 && scriptArgs[0] !== "--") return `npm run ${script} ${scriptArgs.join(" ")}: arguments for the script go after --`;
  // Usage notation ([options], a|b) describes commands rather than being one; only its script is checked.
  if (args.some((a) => a.startsWith("[") || a.includes("|"))) return undefined;
  const stacks = listStacks(ROOT);
  try {
    if (script === "plan") {
      const plan = parsePlanArguments(args);
      const unknown = plan === "help" ? [] : plan.stacks.filter((s) => !isPlaceholder(s) && !stacks.includes(s));
      if (unknown.length > 0) return `npm run plan: no stack ${unknown.join(", ")} (stacks: ${stacks.join(", ")})`;
    } else if (script === "cost") {
      const cost = parseCostArguments(args);
      const unknown = cost === "help" ? [] : cost.stacks.filter((s) => !isPlaceholder(s) && !stacks.includes(s));
      if (unknown.length > 0) return `npm run cost: no stack ${unknown.join(", ")} (stacks: ${stacks.join(", ")})`;
    } else if (script === "dev") {
      const dev = parseDevCommand(args);
      if (dev.kind === "serve" && !isPlaceholder(dev.stack) && !stacks.includes(dev.stack)) return `npm run dev: no stack ${dev.stack}`;
    } else if (script === "deployments") {
      // Named alone, the script prints its usage.
      if (args.length > 0) parseFollowArguments(args);
    } else if (args.length > 0) {
      return `npm run ${script} takes no arguments here, got ${args.join(" ")}`;
    }
  } catch (error) {
    return `npm run ${script} -- ${args.join(" ")}: ${(error as Error).message.split("\n")[0]}`;
  }
  return undefined;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- ]/gu, "").replace(/ /g, "-");
}

function anchorsOf(file: string): string[] {
  return parseMarkdown(file).prose.split("\n").filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, "")));
}

/**
 * A numeric constant exported by a handler file (`export const MAX_LIMIT = 100;`), read from
 * its source: importing a handler would run its start-up (required environment, clients)
 * inside the test process.
 */
function handlerConstant(file: string, name: string): number {
  const match = new RegExp(`export const ${name} = ([0-9 *]+);`).exec(fs.readFileSync(path.join(ROOT, file), "utf8"));
  if (!match) throw new Error(`no numeric constant ${name} in ${file}`);
  return match[1].split("*").reduce((product, factor) => product * Number(factor), 1);
}

/** Every `new HttpError(status, "Code", ...)` the handlers can answer with. */
function handlerErrors(): Array<{ status: number; code: string }> {
  const files = ["handlers/lib/http.ts", ...fs.readdirSync(path.join(ROOT, "handlers/orders")).map((f) => `handlers/orders/${f}`)];
  return files.flatMap((file) => [...fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(/new HttpError\(\s*(\d{3}),\s*"(\w+)"/g)]
    .map((m) => ({ status: Number(m[1]), code: m[2] })));
}

describe("the documentation (README.md and docs/)", () => {
  it("tags every fenced block with a checked language, or marks it illustrative", () => {
    const problems = DOCS.flatMap(({ blocks }) => blocks
      .filter((b) => !b.illustrative && !["ts", "sh", "text", "mermaid"].includes(b.language))
      .map((b) => `${where(b.file, b.line - 1)}: a \`\`\`${b.language || "(untagged)"} block; tag it ts, sh, text or mermaid, or put ${ILLUSTRATIVE_MARK} before it`));
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("documents only commands that exist: npm scripts, and the flags and subcommands of plan and dev", () => {
    const problems: string[] = [];
    const check = (text: string, file: string, line: number) => {
      for (const { words, stdoutRedirected } of commandsOf(text)) {
        const problem = checkCommand(words, stdoutRedirected);
        if (problem) problems.push(`${where(file, line)}: ${problem}`);
      }
    };
    for (const { file, blocks, prose } of DOCS) {
      for (const block of blocks.filter((b) => !b.illustrative && (b.language === "sh" || b.language === "text"))) {
        for (const { text, offset } of commandLines(block.content, block.language === "text")) check(text, file, block.line + offset);
      }
      // Inline spans may wrap across lines; a span is one command.
      for (const match of prose.matchAll(/`(npm [^`]+)`/g)) {
        check(match[1].replace(/\s*\n\s*/g, " "), file, prose.slice(0, match.index).split("\n").length);
      }
    }
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("catches a command that does not exist (the checks can fail)", () => {
    expect(checkCommand(shellWords("npm run plan -- prod --yaml"), false)).to.match(/unknown option --yaml/);
    expect(checkCommand(shellWords("npm run dev -- sned fulfilment x"), false)).to.match(/One stack at a time/);
    expect(checkCommand(shellWords("npm run dev -- --presist"), false)).to.match(/Unknown option --presist/);
    expect(checkCommand(shellWords("npm run plan -- staging"), false)).to.match(/no stack staging/);
    expect(checkCommand(shellWords("npm run -s cost -- prod --yaml"), false)).to.match(/unknown option --yaml/);
    expect(checkCommand(shellWords("npm run -s cost -- staging"), false)).to.match(/no stack staging/);
    expect(checkCommand(shellWords("npm run deploy"), false)).to.match(/no such script/);
    expect(checkCommand(shellWords("npm run deployments -- follow --prefix x- d-1"), false)).to.match(/name deployment ids or --prefix, not both/);
    expect(checkCommand(shellWords("npm run plan -- prod --json"), true)).to.match(/write npm run -s plan/);
    expect(checkCommand(shellWords("npx mocha test/nowhere.test.ts"), false)).to.match(/no such file test\/nowhere.test.ts/);
    expect(checkCommand(shellWords("npm run -s plan -- prod --json --out plan.json"), false)).to.equal(undefined);
    expect(checkCommand(shellWords(`npm run dev -- send fulfilment '{"orderId":"nope"}'`), false)).to.equal(undefined);
    expect(shellWords("npm run plan -- <stack> --out <file> > plan.txt")).to.deep.equal(["npm", "run", "plan", "--", "<stack>", "--out", "<file>", ">", "plan.txt"]);
  });

  it("links only to files and headings that exist", () => {
    const problems: string[] = [];
    for (const { file, prose } of DOCS) {
      for (const match of prose.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const target = match[1];
        if (/^[a-z]+:/.test(target)) continue;
        const line = prose.slice(0, match.index).split("\n").length;
        const [relative, fragment] = target.split("#");
        const targetFile = relative === "" ? file : path.resolve(path.dirname(file), relative);
        if (!fs.existsSync(targetFile)) problems.push(`${where(file, line)}: ${target}: no such file`);
        else if (fragment !== undefined && targetFile.endsWith(".md") && !anchorsOf(targetFile).includes(fragment)) {
          problems.push(`${where(file, line)}: ${target}: no heading #${fragment} in ${path.relative(ROOT, targetFile)}`);
        }
      }
    }
    expect(problems, problems.join("\n")).to.deep.equal([]);
  });

  it("type-checks every TypeScript example against the real components", function () {
    // One tsc run over all blocks; type-checking @pulumi/aws is slow.
    this.timeout(180000);
    const directory = path.join(ROOT, ".local", "docs-check");
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true });
    const root = path.relative(directory, ROOT).split(path.sep).join("/");
    const sources = new Map<string, Block>();
    for (const block of DOCS.flatMap((d) => d.blocks).filter((b) => b.language === "ts" && !b.illustrative)) {
      const name = `${path.relative(ROOT, block.file).replace(/[/\\.]/g, "_")}_${block.line}.ts`;
      // Same line count as the block, so tsc's line numbers point into the Markdown.
      const code = block.content
        .replace(/from "@orders-platform\/serverless-components"/g, 'from "./components"')
        .replace(/from "\.\//g, `from "${root}/`);
      fs.writeFileSync(path.join(directory, name), `${code}\nexport {};\n`);
      sources.set(name, block);
    }
    expect(sources.size).to.be.greaterThan(0);
    fs.writeFileSync(path.join(directory, "tsconfig.json"), JSON.stringify({
      extends: "../../tsconfig.json",
      // Examples declare what a reader would go on to use.
      compilerOptions: { noEmit: true, noUnusedLocals: false },
      include: ["*.ts"],
    }));
    const tsc = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", directory, "--pretty", "false"], { encoding: "utf8" });
    const errors = tsc.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => {
      const m = /^(?:.*[/\\])?([^/\\(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
      const block = m && sources.get(m[1]);
      return block ? `${where(block.file, block.line + Number(m[2]) - 1)}: ${m[4]}` : l;
    });
    expect(errors, errors.join("\n")).to.deep.equal([]);
    expect(tsc.status, tsc.stderr).to.equal(0);
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it("states the orders API's limits and error codes as the handlers enforce them", () => {
    const page = fs.readFileSync(path.join(ROOT, "docs/orders-api.md"), "utf8");
    const maxLimit = handlerConstant("handlers/orders/list-orders.ts", "MAX_LIMIT");
    const defaultLimit = handlerConstant("handlers/orders/list-orders.ts", "DEFAULT_LIMIT");
    const maxBody = handlerConstant("handlers/lib/http.ts", "MAX_BODY_BYTES");
    const maxQuantity = handlerConstant("handlers/orders/create-order.ts", "MAX_QUANTITY");
    expect(page).to.match(new RegExp(`\\| \`limit\` \\| optional; an integer from 1 to ${maxLimit} .*; default ${defaultLimit} \\|`));
    expect(page).to.include(`| 413 | \`PayloadTooLarge\` | a request body above ${maxBody / 1024} KB (${maxBody} bytes`);
    expect(page).to.include(`| \`items[i].quantity\` | required; an integer from 1 to ${maxQuantity} |`);
    const errors = handlerErrors();
    expect(errors.length).to.be.greaterThan(8);
    const rows = page.split("\n").filter((l) => /^\| \d{3} \|/.test(l));
    const undocumented = errors.filter(({ status, code }) => !rows.some((row) => row.startsWith(`| ${status} |`) && row.includes(`\`${code}\``)));
    expect(undocumented, "answers of the handlers missing from the status table of docs/orders-api.md").to.deep.equal([]);
  });
});
