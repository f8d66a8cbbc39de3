/**
 * The AWS the benchmark's handlers talk to, all on 127.0.0.1 inside the bench process: the
 * local runtime's own pieces (local/), so the bench and `npm run dev` share one stand-in per
 * service. dynalite (a real DynamoDB implementation) with the orders table created from
 * handlers/orders/table.ts and the local Parameter Store holding create-order's parameters.
 * An operation they do not implement gets a 400 naming it, so the handler fails and the
 * bench stops on its unexpected outcome.
 *
 * The functions reach both over HTTPS, as every AWS endpoint is: a TLS proxy in front of each,
 * with a self-signed certificate for 127.0.0.1 made (by openssl) when the bench starts and
 * trusted through NODE_EXTRA_CA_CERTS. Over plain HTTP, Node 24's `node:http` loads undici
 * on an ES module's first request (its lazy WebSocket getter), a cost no Lambda function has.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
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

/** A self-signed certificate for 127.0.0.1, valid for a day, in a directory of its own. */
function selfSignedCertificate(directory: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(directory, "key.pem");
  const certFile = path.join(directory, "cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyFile, "-out", certFile,
  ], { stdio: "ignore" });
  return { key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8"), certFile };
}

/** Terminates TLS on a free port and passes the bytes on to a plain HTTP endpoint; resolves to its https URL. */
async function tlsProxy(target: string, credentials: { key: string; cert: string }, servers: tls.Server[]): Promise<string> {
  const { hostname, port } = new URL(target);
  const server = tls.createServer(credentials, (socket) => {
    const upstream = net.connect(Number(port), hostname);
    socket.pipe(upstream).pipe(socket);
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on("error", close);
    upstream.on("error", close);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

export async function startLocalAws(): Promise<LocalAws> {
  const dynamo = await startDynamo([{ ...ordersTable, name: TABLE_NAME, localSecondaryIndexes: [] }], { region: REGION });

  const ssm = new LocalSsm(REGION, MOCK_ACCOUNT_ID);
  // The Parameter Store values of the create-order function (its SSM contract).
  ssm.put({ name: `${PARAMETERS_PATH}/maxItemsPerOrder`, type: "String", value: "10" });
  // High enough for every sample's order of the one bench customer.
  ssm.put({ name: `${PARAMETERS_PATH}/maxOrdersPerCustomerPerDay`, type: "String", value: "100000" });
  const ssmEndpoint = await ssm.start();

  const certificateDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-tls-"));
  const { certFile, ...credentials } = selfSignedCertificate(certificateDir);
  const proxies: tls.Server[] = [];
  const [dynamoHttps, ssmHttps] = [await tlsProxy(dynamo.endpoint, credentials, proxies), await tlsProxy(ssmEndpoint, credentials, proxies)];

  const client = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: { accessKeyId: "bench", secretAccessKey: "bench" } });
  const doc = DynamoDBDocumentClient.from(client);

  return {
    env: {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_ENDPOINT_URL_DYNAMODB: dynamoHttps,
      AWS_ENDPOINT_URL_SSM: ssmHttps,
      NODE_EXTRA_CA_CERTS: certFile,
      AWS_EC2_METADATA_DISABLED: "true",
    },
    putOrder: async (order) => {
      await doc.send(new PutCommand({ TableName: TABLE_NAME, Item: order }));
    },
    stop: async () => {
      doc.destroy();
      for (const proxy of proxies) proxy.close();
      await Promise.all([dynamo.stop(), ssm.stop()]);
      fs.rmSync(certificateDir, { recursive: true, force: true });
    },
  };
}
