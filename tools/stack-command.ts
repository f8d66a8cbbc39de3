/**
 * What the stack commands (`npm run plan`, `npm run cost`) share: a command line of one
 * stack or `--diff <first> <second>`, `--markdown | --json`, `--out <file>` and `--help`,
 * and printing or writing what they produce.
 */
import * as fs from "fs";
import * as path from "path";

export type OutputFormat = "text" | "markdown" | "json";

/** A stack command line, read. */
export interface StackCommandLine {
  format: OutputFormat;
  /** One stack, or two with --diff. */
  stacks: [string] | [string, string];
  /** The options given that take a value (`--out` and the command's own), by option. */
  values: Record<string, string>;
}

const FLAGS = ["--diff", "--markdown", "--json", "--help", "-h"];

/**
 * Reads a stack command line whose options that take a value are `valueOptions`, each with
 * what its value is ("a file name"): the command line, or "help"; throws with `usage` on
 * anything it does not understand.
 */
export function parseStackCommandLine(args: string[], usage: string, valueOptions: Record<string, string>): StackCommandLine | "help" {
  const flags: string[] = [];
  const values: Record<string, string> = {};
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (Object.hasOwn(valueOptions, arg)) {
      const value = args[++i];
      if (value === undefined || value.startsWith("-")) throw new Error(`${arg} needs ${valueOptions[arg]}\n${usage}`);
      values[arg] = value;
    } else if (arg.startsWith("-")) {
      if (!FLAGS.includes(arg)) throw new Error(`unknown option ${arg}\n${usage}`);
      flags.push(arg);
    } else names.push(arg);
  }
  if (flags.includes("--help") || flags.includes("-h")) return "help";
  if (flags.includes("--markdown") && flags.includes("--json")) throw new Error(`choose one of --markdown and --json\n${usage}`);
  const format: OutputFormat = flags.includes("--json") ? "json" : flags.includes("--markdown") ? "markdown" : "text";
  if (flags.includes("--diff")) {
    if (names.length !== 2) throw new Error(`--diff compares two stacks, got ${names.length}: ${names.join(" ") || "none"}\n${usage}`);
    return { format, stacks: [names[0], names[1]], values };
  }
  if (names.length > 1) throw new Error(`one stack at a time (or --diff <first> <second>), got ${names.join(" ")}\n${usage}`);
  return { format, stacks: [names[0] ?? "dev"], values };
}

/**
 * Prints `output`, or writes it to `out` and says so on standard error. A relative `out`
 * names a file in the directory npm was started from (INIT_CWD), not the project root npm
 * runs scripts in.
 */
export function deliverOutput(what: string, output: string, out: string | undefined): void {
  if (out === undefined) {
    console.log(output);
    return;
  }
  const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), out);
  fs.writeFileSync(file, `${output}\n`);
  console.error(`${what} written to ${file}`);
}
