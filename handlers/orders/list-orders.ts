import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { requireEnv } from "../lib/env";
import { httpHandler, json, requireOwnCustomer, unknownFieldsProblem, validationError, type ProblemDetail } from "../lib/http";
import { CUSTOMER_ID_PATTERN, CUSTOMER_ID_RULE, db, ORDER_ID_PATTERN, publicOrder, type Order } from "./model";
import { CUSTOMER_INDEX, ordersTable } from "./table";

const TABLE_NAME = requireEnv("TABLE_NAME");

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
const QUERY_FIELDS = ["customerId", "limit", "nextToken"];

const index = ordersTable.globalSecondaryIndexes[0];
/** The attributes of a LastEvaluatedKey on the customer index: table key plus index key. */
const PAGE_KEY_FIELDS: readonly string[] = [ordersTable.hashKey, index.hashKey, index.rangeKey];
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,2048}$/;
/** createdAt as create-order writes it (Date#toISOString); anything else was not ours. */
const CREATED_AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type PageKey = Record<string, string>;

/** The response body: one page of orders, oldest first, and a token while more may follow. */
export interface OrderPage {
  orders: Order[];
  nextToken?: string;
}

/**
 * GET /orders?customerId=...&limit=...&nextToken=...: a customer's orders from the customer
 * index, oldest first, one page at a time. nextToken is opaque to clients (base64url of the
 * query's LastEvaluatedKey); a token that is not one of ours, or belongs to another
 * customer's listing, is a 400.
 */
export const handler = httpHandler(async (event) => {
  const query = event.queryStringParameters ?? {};
  const problems: ProblemDetail[] = unknownFieldsProblem(Object.keys(query), QUERY_FIELDS, "(query)");

  const { customerId, limit: limitText, nextToken } = query;
  if (customerId === undefined || customerId === "") {
    problems.push({ field: "customerId", message: "is required" });
  } else if (!CUSTOMER_ID_PATTERN.test(customerId)) {
    problems.push({ field: "customerId", message: CUSTOMER_ID_RULE });
  }

  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined) {
    // Any decimal digits, so "007" is the 7 the message promises; huge ones fall out of range.
    limit = /^[0-9]+$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      problems.push({ field: "limit", message: `must be an integer from 1 to ${MAX_LIMIT}` });
    }
  }

  let startKey: PageKey | undefined;
  if (nextToken !== undefined) {
    startKey = decodeToken(nextToken);
    if (startKey === undefined || (customerId !== undefined && startKey[index.hashKey] !== customerId)) {
      problems.push({ field: "nextToken", message: "is not a token returned by this listing" });
    }
  }

  if (problems.length > 0) throw validationError(problems);
  requireOwnCustomer(event, customerId!);

  const result = await db.send(
    new QueryCommand({
      TableName: TABLE_NAME,
      IndexName: CUSTOMER_INDEX,
      KeyConditionExpression: "#customerId = :customerId",
      ExpressionAttributeNames: { "#customerId": index.hashKey },
      ExpressionAttributeValues: { ":customerId": customerId },
      Limit: limit,
      ExclusiveStartKey: startKey,
      ScanIndexForward: true,
    }),
  );
  const page: OrderPage = { orders: (result.Items ?? []).map(publicOrder) };
  if (result.LastEvaluatedKey !== undefined) page.nextToken = encodeToken(result.LastEvaluatedKey);
  return json(200, page);
});

function encodeToken(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/** The start key inside a token, or undefined for anything this listing could not have issued. */
function decodeToken(token: string): PageKey | undefined {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof key !== "object" || key === null || Array.isArray(key)) return undefined;
  const fields = Object.keys(key);
  const values = key as Record<string, unknown>;
  const wellFormed =
    fields.length === PAGE_KEY_FIELDS.length &&
    PAGE_KEY_FIELDS.every((field) => typeof values[field] === "string" && values[field] !== "") &&
    ORDER_ID_PATTERN.test(values[ordersTable.hashKey] as string) &&
    CREATED_AT_PATTERN.test(values[index.rangeKey] as string);
  return wellFormed ? (values as PageKey) : undefined;
}
