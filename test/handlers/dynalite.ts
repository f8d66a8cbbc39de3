/**
 * A real DynamoDB for the handler tests: dynalite in memory on a free loopback port, with the
 * orders table created from handlers/orders/table.ts (the same definition index.ts deploys).
 *
 * The handlers create their SDK clients at module scope, so the endpoint must be in the
 * environment before the first handler is imported and must not change afterwards: one
 * dynalite serves the whole mocha run. `startLocalDynamo()` starts it on first use and sets
 * the environment; the root-level `after` hook below stops it when the run ends.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { CUSTOMER_INDEX, ordersTable } from "../../handlers/orders/table";
import { startDynamo } from "../../local/dynamodb";
import { startStreamingProxy, type TableStream } from "../../local/dynamodb-streams";

const TABLE_NAME = "orders-test";
const REGION = "eu-west-1";
const STREAM_ARN = `arn:aws:dynamodb:${REGION}:123456789012:table/${TABLE_NAME}/stream/2026-01-01T00:00:00.000`;

export interface LocalDynamo {
  endpoint: string;
  tableName: string;
  /** A document client of the tests' own, for seeding and checking the table. */
  doc: DynamoDBDocumentClient;
  /** The table's stream (KEYS_ONLY, as deployed), from the local runtime's emulation. */
  stream: TableStream;
}

let started: Promise<LocalDynamo & { stop(): Promise<void> }> | undefined;

async function start(): Promise<LocalDynamo & { stop(): Promise<void> }> {
  // The same dynalite and table creation as `npm run dev`, from the definition index.ts deploys.
  const table = { ...ordersTable, name: TABLE_NAME, localSecondaryIndexes: [] };
  const dynamo = await startDynamo([table], { region: REGION });
  // Clients go through the streams proxy, so every write lands on the table's stream as on AWS.
  const streaming = await startStreamingProxy(dynamo.endpoint, [{ ...table, streamArn: STREAM_ARN, streamViewType: "KEYS_ONLY" }], REGION);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: streaming.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    TABLE_NAME,
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const stop = async () => {
    await streaming.stop();
    await dynamo.stop();
  };
  return { endpoint: streaming.endpoint, tableName: TABLE_NAME, doc, stream: streaming.streams[0], stop };
}

/** Start dynalite (once per run), set the AWS environment and create the orders table. */
export function startLocalDynamo(): Promise<LocalDynamo> {
  started ??= start();
  return started;
}

// Root-level hook (registered when the first test file imports this module): stop dynalite
// at the end of the run, so mocha can exit without --exit.
after(async () => {
  if (started === undefined) return;
  const { doc, stop } = await started;
  doc.destroy();
  await stop();
});

/** Every order of a customer, read from the customer index (what the table really holds). */
export async function ordersOf(dynamo: LocalDynamo, customerId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await dynamo.doc.send(
    new QueryCommand({
      TableName: dynamo.tableName,
      IndexName: CUSTOMER_INDEX,
      KeyConditionExpression: "customerId = :customerId",
      ExpressionAttributeValues: { ":customerId": customerId },
    }),
  );
  return Items ?? [];
}

/** One order by id, strongly consistent, or undefined. */
export async function orderById(dynamo: LocalDynamo, orderId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.doc.send(
    new GetCommand({ TableName: dynamo.tableName, Key: { orderId }, ConsistentRead: true }),
  );
  return Item;
}

/** Store an order directly (bypassing the handlers), as a test's starting state. */
export async function putOrder(dynamo: LocalDynamo, order: Record<string, unknown>): Promise<void> {
  await dynamo.doc.send(new PutCommand({ TableName: dynamo.tableName, Item: order }));
}
