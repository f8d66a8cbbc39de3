/**
 * The AWS the benchmark's handlers talk to, all on 127.0.0.1 inside the bench process: the
 * local runtime's own pieces (local/), so the bench and `npm run dev` share one stand-in per
 * service. dynalite (a real DynamoDB implementation) with the orders table created from
 * handlers/orders/table.ts and the local Parameter Store holding create-order's parameters.
 * An operation they do not implement gets a 400 naming it, so the handler fails and the
 * bench stops on its unexpected outcome.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { ordersTable } from "../handlers/orders/table";
import { startDynamo } from "../local/dynamodb";
import { LocalSsm } from "../local/ssm";
import { MOCK_ACCOUNT_ID } from "../tools/mock-engine";

export const REGION = "eu-west-1";
export const TABLE_NAME = "orders-bench";
export const PARAMETERS_PATH = "/serverless-orders/bench/orders-api-create-order";

export interface LocalAws {
  /** Environment that points the SDK clients of a child process here. */
  env: Record<string, string>;
  /** Store an order directly in the table. */
  putOrder(order: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalAws(): Promise<LocalAws> {
  const dynamo = await startDynamo([{ ...ordersTable, name: TABLE_NAME, localSecondaryIndexes: [] }], { region: REGION });

  const ssm = new LocalSsm(REGION, MOCK_ACCOUNT_ID);
  // The Parameter Store values of the create-order function (its SSM contract).
  ssm.put({ name: `${PARAMETERS_PATH}/maxItemsPerOrder`, type: "String", value: "10" });
  // High enough for every sample's order of the one bench customer.
  ssm.put({ name: `${PARAMETERS_PATH}/maxOrdersPerCustomerPerDay`, type: "String", value: "100000" });
  const ssmEndpoint = await ssm.start();

  const client = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: { accessKeyId: "bench", secretAccessKey: "bench" } });
  const doc = DynamoDBDocumentClient.from(client);

  return {
    env: {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SSM: ssmEndpoint,
      AWS_EC2_METADATA_DISABLED: "true",
    },
    putOrder: async (order) => {
      await doc.send(new PutCommand({ TableName: TABLE_NAME, Item: order }));
    },
    stop: async () => {
      doc.destroy();
      await Promise.all([dynamo.stop(), ssm.stop()]);
    },
  };
}
