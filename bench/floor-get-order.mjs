// The floor of the cold-start bench: get-order's one DynamoDB call (GetItem, consistent
// read, by orderId) as a single `node:https` request signed with Signature Version 4 by
// hand, with node:crypto only. No SDK, no validation, no logging: what any packaging of
// get-order cannot go below. It reads the same environment as the real handler
// (TABLE_NAME, AWS_REGION, the credentials, AWS_ENDPOINT_URL_DYNAMODB).
import { createHash, createHmac } from "node:crypto";
import { request } from "node:https";

const hmac = (key, text) => createHmac("sha256", key).update(text).digest();
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

function signedHeaders(url, body, region) {
  const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers = {
    "content-type": "application/x-amz-json-1.0",
    host: url.host,
    "x-amz-date": amzDate,
    "x-amz-target": "DynamoDB_20120810.GetItem",
  };
  const names = Object.keys(headers).sort();
  const canonical = ["POST", "/", "", ...names.map((name) => `${name}:${headers[name]}`), "", names.join(";"), sha256(body)].join("\n");
  const scope = `${day}/${region}/dynamodb/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${process.env.AWS_SECRET_ACCESS_KEY}`, day);
  for (const part of [region, "dynamodb", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${process.env.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}

export async function handler(event) {
  const region = process.env.AWS_REGION;
  const url = new URL(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? `https://dynamodb.${region}.amazonaws.com`);
  const body = JSON.stringify({ TableName: process.env.TABLE_NAME, Key: { orderId: { S: event.pathParameters.orderId } }, ConsistentRead: true });
  const answer = await new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: signedHeaders(url, body, region) }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
  const item = answer.status === 200 ? JSON.parse(answer.text).Item : undefined;
  return item ? { statusCode: 200, body: JSON.stringify(item) } : { statusCode: 502, body: answer.text };
}
