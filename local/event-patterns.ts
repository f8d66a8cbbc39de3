/**
 * EventBridge event patterns and SNS filter policies, matched as the services document
 * them (EventBridge user guide "Content filtering" and "Comparison operators"; SNS
 * developer guide "Subscription filter policies"). One grammar serves both: a pattern
 * mirrors the document's structure, its leaves are lists of matchers, one of which must
 * match the field's value (any element, for a list value); every field must match; `$or`
 * takes alternatives. No kept npm library implements this grammar (AWS's own, Event
 * Ruler, is Java), so it lives here, tested against AWS's documented examples.
 *
 * Leaf matchers: exact values (string, number, boolean, null), `prefix`, `suffix`
 * (each also as `{ "equals-ignore-case": ... }`), `equals-ignore-case`, `wildcard`
 * (EventBridge only), `anything-but` (values, or `prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard`), `numeric` (`=`, `<`, `<=`, `>`, `>=`, up to two bounds), `exists` and
 * `cidr` (IPv4 and IPv6).
 */
import { BlockList, isIP } from "node:net";

export type Dialect = "EventBridge" | "SNS";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ABSENT = Symbol("absent");
type Value = Json | typeof ABSENT;

const isObject = (value: unknown): value is Record<string, Json> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A compiled pattern: whether a document matches it. */
export type PatternMatcher = (document: unknown) => boolean;

/**
 * Compiles `pattern` once, checking all of it (a pattern the service would refuse throws
 * here, whatever the documents), into a matcher that never re-reads the pattern.
 */
export function compilePattern(pattern: unknown, dialect: Dialect = "EventBridge"): PatternMatcher {
  if (!isObject(pattern)) throw new Error(`${dialect} pattern must be a JSON object, got ${JSON.stringify(pattern)}`);
  const matches = compileObject(pattern, dialect);
  return (document) => matches(document as Json);
}

/** Whether `document` matches `pattern`; throws on a pattern the service would refuse. */
export function matchesPattern(pattern: unknown, document: unknown, dialect: Dialect = "EventBridge"): boolean {
  return compilePattern(pattern, dialect)(document);
}

function compileObject(pattern: Record<string, Json>, dialect: Dialect): (document: Json | undefined) => boolean {
  const fields = Object.entries(pattern).map(([key, expected]): ((document: Json | undefined) => boolean) => {
    if (key === "$or") {
      if (!Array.isArray(expected) || expected.length < 2) throw new Error(`${dialect} pattern: "$or" takes a list of at least two patterns`);
      const alternatives = expected.map((alternative) => {
        if (!isObject(alternative)) throw new Error(`${dialect} pattern: each "$or" alternative must be an object`);
        return compileObject(alternative, dialect);
      });
      return (document) => alternatives.some((alternative) => alternative(document));
    }
    const valueOf = (document: Json | undefined): Value => (isObject(document) && Object.hasOwn(document, key) ? document[key] : ABSENT);
    if (isObject(expected)) {
      const nested = compileObject(expected, dialect);
      return (document) => {
        const value = valueOf(document);
        return value !== ABSENT && (isObject(value) || Array.isArray(value)) && someValue(value, (v) => isObject(v) && nested(v));
      };
    }
    if (!Array.isArray(expected)) throw new Error(`${dialect} pattern: the value of "${key}" must be a list of matchers or an object, got ${JSON.stringify(expected)}`);
    const leaves = expected.map((matcher) => compileLeaf(matcher, dialect));
    return (document) => {
      const value = valueOf(document);
      return leaves.some((leaf) => leaf(value));
    };
  });
  return (document) => fields.every((field) => field(document));
}

/** A list value matches when any element does. */
function someValue(value: Json, test: (v: Json) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

function compileLeaf(matcher: Json, dialect: Dialect): (value: Value) => boolean {
  if (!isObject(matcher)) return (value) => value !== ABSENT && someValue(value, (v) => matcher === v);
  const entries = Object.entries(matcher);
  if (entries.length !== 1) throw new Error(`${dialect} pattern: a matcher has exactly one operator, got ${JSON.stringify(matcher)}`);
  const [operator, operand] = entries[0];
  if (operator === "exists") {
    if (typeof operand !== "boolean") throw new Error(`${dialect} pattern: "exists" takes true or false`);
    // Exists matches leaves only: a field holding an object does not "exist" for it.
    return (value) => operand === (value !== ABSENT && !isObject(value) && !(Array.isArray(value) && value.length === 0));
  }
  const test = operator === "anything-but" ? anythingBut(operand, dialect) : leafTest(operator, operand, dialect);
  return (value) => value !== ABSENT && someValue(value, test);
}

/** `anything-but`: a value matches when the operand does not name it. */
function anythingBut(operand: Json, dialect: Dialect): (value: Json) => boolean {
  if (isObject(operand)) {
    const [[operator, inner]] = Object.entries(operand);
    if (!["prefix", "suffix", "equals-ignore-case", "wildcard"].includes(operator)) throw new Error(`${dialect} pattern: "anything-but" takes values, or one of prefix, suffix, equals-ignore-case, wildcard; got ${operator}`);
    const excluded = (Array.isArray(inner) ? inner : [inner]).map((o) => leafTest(operator, o, dialect));
    return (value) => !excluded.some((excludes) => excludes(value));
  }
  const values = Array.isArray(operand) ? operand : [operand];
  return (value) => !values.some((v) => v === value);
}

function ignoreCase(operand: Json, dialect: Dialect, operator: string): { text: string; fold: boolean } {
  if (typeof operand === "string") return { text: operand, fold: false };
  if (isObject(operand) && typeof operand["equals-ignore-case"] === "string") return { text: operand["equals-ignore-case"], fold: true };
  throw new Error(`${dialect} pattern: "${operator}" takes a string or { "equals-ignore-case": string }, got ${JSON.stringify(operand)}`);
}

const fold = (text: string) => text.toLocaleLowerCase("en-US");

function leafTest(operator: string, operand: Json, dialect: Dialect): (value: Json) => boolean {
  switch (operator) {
    case "prefix":
    case "suffix": {
      const { text, fold: folded } = ignoreCase(operand, dialect, operator);
      const wanted = folded ? fold(text) : text;
      return (value) => typeof value === "string" && (operator === "prefix" ? (folded ? fold(value) : value).startsWith(wanted) : (folded ? fold(value) : value).endsWith(wanted));
    }
    case "equals-ignore-case": {
      if (typeof operand !== "string") throw new Error(`${dialect} pattern: "equals-ignore-case" takes a string`);
      return (value) => typeof value === "string" && fold(value) === fold(operand);
    }
    case "wildcard": {
      if (dialect !== "EventBridge") throw new Error(`${dialect} filter policies have no "wildcard" operator`);
      if (typeof operand !== "string") throw new Error(`${dialect} pattern: "wildcard" takes a string`);
      const regex = wildcardRegex(operand);
      return (value) => typeof value === "string" && regex.test(value);
    }
    case "numeric":
      return numericTest(operand, dialect);
    case "cidr":
      return cidrTest(operand, dialect);
    default:
      throw new Error(`${dialect} pattern: unknown operator "${operator}"`);
  }
}

/** `*` is any run of characters; `\*` a literal star. */
function wildcardRegex(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && pattern[i + 1] === "*") { source += "\\*"; i++; }
    else if (c === "*") source += ".*";
    else source += c.replace(/[.+?^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  "=": (a, b) => a === b, "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b,
};

function numericTest(operand: Json, dialect: Dialect): (value: Json) => boolean {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    throw new Error(`${dialect} pattern: "numeric" takes [op, number] or [op, number, op, number], got ${JSON.stringify(operand)}`);
  }
  const bounds: Array<[(a: number, b: number) => boolean, number]> = [];
  for (let i = 0; i < operand.length; i += 2) {
    const compare = COMPARISONS[String(operand[i])];
    if (!compare || typeof operand[i + 1] !== "number") throw new Error(`${dialect} pattern: "numeric" takes operators ${Object.keys(COMPARISONS).join(" ")} each followed by a number, got ${JSON.stringify(operand)}`);
    bounds.push([compare, operand[i + 1] as number]);
  }
  return (value) => typeof value === "number" && bounds.every(([compare, bound]) => compare(value, bound));
}

function cidrTest(operand: Json, dialect: Dialect): (value: Json) => boolean {
  const [address, bits] = typeof operand === "string" ? operand.split("/") : [];
  const family = isIP(address ?? "");
  const prefix = Number(bits);
  if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new Error(`${dialect} pattern: "cidr" takes an IPv4 or IPv6 block such as 10.0.0.0/24, got ${JSON.stringify(operand)}`);
  }
  const block = new BlockList();
  block.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  return (value) => typeof value === "string" && isIP(value) !== 0 && block.check(value, isIP(value) === 4 ? "ipv4" : "ipv6");
}

/** An SNS message attribute as Publish takes it. */
export interface SnsMessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: unknown;
}

/**
 * Whether an SNS message passes a subscription's filter policy. MessageAttributes scope:
 * the policy's keys are attribute names; a `Number` attribute is matched as a number, a
 * `String.Array` as the list its JSON holds, a `String` as text, and `Binary` attributes
 * are not matched at all (as SNS ignores them). MessageBody scope: the policy is matched
 * against the body's JSON, and a body that is not a JSON object matches nothing.
 */
export function matchesFilterPolicy(policy: unknown, message: { body: string; attributes: Record<string, SnsMessageAttribute> }, scope: "MessageAttributes" | "MessageBody" = "MessageAttributes"): boolean {
  if (scope === "MessageBody") {
    let body: unknown;
    try {
      body = JSON.parse(message.body);
    } catch {
      return false;
    }
    return isObject(body) && matchesPattern(policy, body, "SNS");
  }
  const document: Record<string, Json> = {};
  for (const [name, attribute] of Object.entries(message.attributes)) {
    const value = attributeValue(attribute);
    if (value !== undefined) document[name] = value;
  }
  return matchesPattern(policy, document, "SNS");
}

function attributeValue(attribute: SnsMessageAttribute): Json | undefined {
  const type = attribute.DataType.split(".")[0];
  const text = attribute.StringValue;
  if (text === undefined) return undefined;
  if (type === "Number") return Number(text);
  if (attribute.DataType === "String.Array") {
    try {
      const list = JSON.parse(text);
      if (Array.isArray(list)) return list as Json[];
    } catch {
      // Not a JSON array: SNS matches the attribute as a plain string then.
    }
  }
  return type === "String" ? text : undefined;
}
