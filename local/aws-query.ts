/**
 * The AWS Query protocol, as SQS's older clients speak it (the SDK v2, Debian's AWS CLI 2.9,
 * boto3 before 1.31): form-encoded `Action=<Operation>&Version=...&Member.1.Name=...`
 * (POST, or GET with a query string), answered with XML, errors as `<ErrorResponse>`.
 * Decoding turns the flattened form into the JSON protocol's input and encoding turns the
 * JSON protocol's output into XML, so operations are written once; `QueryShapes` names the
 * members whose Query names differ from their JSON names.
 */
import type { IncomingMessage } from "node:http";
import { AwsError, type ProtocolCodec } from "./aws-server";

/** Names a member's items by the operation, e.g. `Entries` of SendMessageBatch: `SendMessageBatchRequestEntry`. */
type ItemName = string | ((operation: string) => string);

export interface QueryShapes {
  /** List members (JSON name) and the Query name of their items: `AttributeNames` as `AttributeName.1`, `AttributeName.2`, ... */
  lists: Record<string, ItemName>;
  /** Map members (JSON name) and the Query name of their entries and of each entry's key and value: `Attributes` as `Attribute.1.Name`, `Attribute.1.Value`. */
  maps: Record<string, { entry: string; key: string; value: string }>;
  /** Number members (JSON name): the form carries every value as text. */
  numbers: ReadonlySet<string>;
  /**
   * Members in the wrapped style SNS uses: a list's items under `member`
   * (`Entries.member.1.Id`), a map's entries under `entry` with their key and value names
   * (`MessageAttributes.entry.1.Name`, `...Value`); lists are answered as `<Name><member>`.
   */
  wrapped?: { lists: ReadonlySet<string>; maps: Record<string, { key: string; value: string }> };
}

export interface QueryCodecOptions {
  /** The XML namespace of answers, e.g. `http://queue.amazonaws.com/doc/2012-11-05/`. */
  xmlNamespace: string;
  shapes: QueryShapes;
}

type Tree = { [name: string]: Tree | string };

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;", "\r": "&#xD;" };
// A carriage return is escaped too: XML parsers turn a literal one into a line feed.
const escapeXml = (text: string) => text.replace(/[&<>"'\r]/g, (c) => XML_ESCAPES[c]);

/** Numbered items (`Name.1`, `Name.2`, ...) in order; a plain name (QueueUrl) has none. */
const numbered = (node: Tree | string | undefined): (Tree | string)[] =>
  typeof node === "object" ? Object.entries(node).filter(([index]) => /^\d+$/.test(index)).sort(([a], [b]) => Number(a) - Number(b)).map(([, item]) => item) : [];

const itemName = (name: ItemName, operation: string) => (typeof name === "function" ? name(operation) : name);

export function queryCodec(options: QueryCodecOptions): ProtocolCodec {
  const { shapes } = options;
  const isForm = (request: IncomingMessage) => /^application\/x-www-form-urlencoded\b/i.test(request.headers["content-type"] ?? "");
  const queryString = (request: IncomingMessage) => new URL(request.url ?? "/", "http://local").searchParams;

  /** The JSON-protocol value of one decoded member. */
  const decodeMember = (operation: string, name: string, value: Tree | string): [string, unknown] => {
    if (typeof value === "string") return [name, shapes.numbers.has(name) && /^-?\d+$/.test(value) ? Number(value) : value];
    if (shapes.wrapped?.lists.has(name)) return [name, numbered(value.member).map((item) => decodeValue(operation, item))];
    const wrappedMap = shapes.wrapped?.maps[name];
    if (wrappedMap) return [name, mapOf(operation, numbered(value.entry), wrappedMap.key, wrappedMap.value)];
    const items = numbered(value);
    const list = Object.entries(shapes.lists).find(([, item]) => itemName(item, operation) === name);
    if (list) return [list[0], items.map((item) => decodeValue(operation, item))];
    const map = Object.entries(shapes.maps).find(([, entry]) => entry.entry === name);
    if (map) {
      return [map[0], mapOf(operation, items, map[1].key, map[1].value)];
    }
    return [name, decodeValue(operation, value)];
  };
  const mapOf = (operation: string, entries: (Tree | string)[], key: string, valueName: string) =>
    Object.fromEntries(entries.flatMap((entry) => (typeof entry === "string" || typeof entry[key] !== "string" ? [] : [[entry[key], decodeValue(operation, entry[valueName] ?? "")]])));
  const decodeValue = (operation: string, value: Tree | string): unknown =>
    typeof value === "string" ? value : Object.fromEntries(Object.entries(value).map(([name, member]) => decodeMember(operation, name, member)));

  /** XML elements for a JSON-protocol output structure. */
  const encodeMembers = (operation: string, output: Record<string, unknown>): string => {
    let xml = "";
    for (const [name, value] of Object.entries(output)) {
      if (value === undefined || value === null) continue;
      const map = shapes.maps[name];
      if (map && typeof value === "object") {
        for (const [key, entry] of Object.entries(value)) xml += `<${map.entry}><${map.key}>${escapeXml(key)}</${map.key}><${map.value}>${encodeValue(operation, entry)}</${map.value}></${map.entry}>`;
      } else if (Array.isArray(value) && shapes.wrapped?.lists.has(name)) {
        xml += `<${name}>${value.map((entry) => `<member>${encodeValue(operation, entry)}</member>`).join("")}</${name}>`;
      } else if (Array.isArray(value)) {
        const item = itemName(shapes.lists[name] ?? name, operation);
        for (const entry of value) xml += `<${item}>${encodeValue(operation, entry)}</${item}>`;
      } else {
        xml += `<${name}>${encodeValue(operation, value)}</${name}>`;
      }
    }
    return xml;
  };
  const encodeValue = (operation: string, value: unknown): string =>
    typeof value === "object" && value !== null ? encodeMembers(operation, value as Record<string, unknown>) : escapeXml(String(value));

  const xml = (status: number, body: string): { status: number; contentType: string; body: string } => ({ status, contentType: "text/xml", body: `<?xml version="1.0"?>${body}` });

  return {
    description: "the AWS Query protocol (Action=<Operation>, form-encoded)",
    accepts: (request) => isForm(request) || queryString(request).has("Action"),
    decode(request, text) {
      const params = [...queryString(request), ...(isForm(request) ? new URLSearchParams(text) : [])];
      const tree: Tree = {};
      for (const [key, value] of params) {
        if (key === "Action" || key === "Version") continue;
        const path = key.split(".");
        let node = tree;
        for (const segment of path.slice(0, -1)) {
          const next = node[segment];
          node = typeof next === "object" ? next : (node[segment] = {});
        }
        node[path[path.length - 1]] = value;
      }
      const operation = params.find(([key]) => key === "Action")?.[1];
      if (!operation) throw new AwsError("MissingAction", "The request must contain the parameter Action.", 400, "MissingAction;Sender");
      return { operation, input: decodeValue(operation, tree) as Record<string, unknown> };
    },
    encode(operation, output, requestId) {
      const members = encodeMembers(operation, (output ?? {}) as Record<string, unknown>);
      const result = members === "" ? "" : `<${operation}Result>${members}</${operation}Result>`;
      return xml(200, `<${operation}Response xmlns="${options.xmlNamespace}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`);
    },
    encodeError(error, requestId) {
      const [code, fault] = error.queryError?.split(";") ?? [error.name, error.status >= 500 ? "Receiver" : "Sender"];
      return xml(error.status, `<ErrorResponse xmlns="${options.xmlNamespace}"><Error><Type>${fault}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(error.message)}</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    },
  };
}
