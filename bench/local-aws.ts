/**
 * The AWS the benchmark's handlers talk to, all on 127.0.0.1 inside the bench process:
 * one dynalite (a real DynamoDB implementation) with the orders table created from
 * handlers/orders/table.ts, and two tiny HTTP stand-ins that answer exactly the calls the
 * handlers make: SSM `GetParametersByPath` (AWS JSON 1.1) and SQS `SendMessage` (AWS JSON
 * 1.0, what the current SQS client speaks). Anything else gets a 400, and is counted, so a
 * handler that starts calling something new shows up instead of being silently answered.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { ordersTable } from "../handlers/orders/table";
import { createTableInput } from "../local/dynamodb";

export const REGION = "eu-west-1";
export const TABLE_NAME = "orders-bench";
export const PARAMETERS_PATH = "/serverless-orders/bench/orders-api-create-order";

/** The Parameter Store values of the create-order function (its SSM contract). */
const PARAMETERS = [
  { Name: `${PARAMETERS_PATH}/maxItemsPerOrder`, Type: "String", Value: "10" },
  { Name: `${PARAMETERS_PATH}/orderTokenSecret`, Type: "SecureString", Value: "bench-secret-not-real" },
];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

type Operation = (input: Record<string, any>) => { status: number; body: unknown };

/** An AWS JSON-protocol endpoint: dispatch on X-Amz-Target, JSON in, JSON out. */
function jsonProtocolServer(contentType: string, operations: Record<string, Operation>, calls: Map<string, number>): Server {
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    readBody(request).then((text) => {
      const target = String(request.headers["x-amz-target"] ?? "(no X-Amz-Target)");
      calls.set(target, (calls.get(target) ?? 0) + 1);
      const operation = operations[target];
      let status = 400;
      let body: unknown = { __type: "UnknownOperationException", message: `The bench stand-in does not implement ${target}` };
      if (operation) {
        try {
          ({ status, body } = operation(text === "" ? {} : JSON.parse(text)));
        } catch (error) {
          body = { __type: "ValidationException", message: (error as Error).message };
        }
      }
      const payload = JSON.stringify(body);
      response.writeHead(status, {
        "content-type": contentType,
        "content-length": Buffer.byteLength(payload),
        "x-amzn-requestid": randomUUID(),
      });
      response.end(payload);
    }, () => response.destroy());
  });
}

export interface LocalAws {
  /** Environment that points the SDK clients of a child process here. */
  env: Record<string, string>;
  /** The queue URL handed to create-order (points at the SQS stand-in; see below). */
  queueUrl: string;
  /** Requests seen by the stand-ins, by X-Amz-Target. */
  calls: Map<string, number>;
  /** Store an order directly in the table. */
  putOrder(order: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalAws(): Promise<LocalAws> {
  const calls = new Map<string, number>();

  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoEndpoint = await listen(dynamo);

  const ssm = jsonProtocolServer("application/x-amz-json-1.1", {
    "AmazonSSM.GetParametersByPath": (input) => {
      if (input.Path !== PARAMETERS_PATH) throw new Error(`unexpected Path ${JSON.stringify(input.Path)}`);
      const now = Date.now() / 1000;
      const Parameters = PARAMETERS.map((p) => ({
        ...p,
        // A SecureString is only readable with WithDecryption; without it SSM returns ciphertext.
        Value: p.Type === "SecureString" && input.WithDecryption !== true ? "AQICAH-ciphertext" : p.Value,
        Version: 1,
        LastModifiedDate: now,
        ARN: `arn:aws:ssm:${REGION}:123456789012:parameter${p.Name}`,
        DataType: "text",
      }));
      return { status: 200, body: { Parameters } };
    },
  }, calls);
  const ssmEndpoint = await listen(ssm);

  const sqs = jsonProtocolServer("application/x-amz-json-1.0", {
    "AmazonSQS.SendMessage": (input) => {
      if (typeof input.MessageBody !== "string") throw new Error("MessageBody is required");
      // The SQS client checks this digest against the body it sent.
      const md5 = createHash("md5").update(input.MessageBody, "utf8").digest("hex");
      return { status: 200, body: { MessageId: randomUUID(), MD5OfMessageBody: md5 } };
    },
  }, calls);
  const sqsEndpoint = await listen(sqs);

  const env = {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_SSM: ssmEndpoint,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    AWS_EC2_METADATA_DISABLED: "true",
  };

  const client = new DynamoDBClient({ region: REGION, endpoint: dynamoEndpoint, credentials: { accessKeyId: "bench", secretAccessKey: "bench" } });
  await client.send(new CreateTableCommand(createTableInput({ ...ordersTable, name: TABLE_NAME, localSecondaryIndexes: [] })));
  for (let attempt = 0; ; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE_NAME }));
    if (Table?.TableStatus === "ACTIVE") break;
    if (attempt >= 100) throw new Error(`Table ${TABLE_NAME} is still ${Table?.TableStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const doc = DynamoDBDocumentClient.from(client);

  return {
    env,
    // The SQS client sends each request to the host of its QueueUrl unless `endpoint` is set
    // in code (AWS_ENDPOINT_URL_SQS alone does not stop that), so the queue URL itself must
    // name the stand-in, or create-order would try the real sqs.<region>.amazonaws.com.
    queueUrl: `${sqsEndpoint}/123456789012/orders-fulfilment`,
    calls,
    putOrder: async (order) => {
      await doc.send(new PutCommand({ TableName: TABLE_NAME, Item: order }));
    },
    stop: async () => {
      doc.destroy();
      await Promise.all([close(dynamo), close(ssm), close(sqs)]);
    },
  };
}
