import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { EventWorker, QueueWorker, SecureFunction, ServerlessApi, StreamWorker } from "../../components";
import { one, ofType, record, RecordedResource } from "../mocks";
import { expectDeploymentFailure, expectRefused, HELLO, TYPES, WORKER } from "./support";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const STREAM_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab";
const ALIAS = "arn:aws:kms:eu-west-1:123456789012:alias/data";
const TABLE_STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:orders";
const ALIAS_REFUSED = /^"arn:aws:kms:eu-west-1:123456789012:alias\/data" is not a KMS key ARN \(arn:aws:kms:<region>:<account>:key\/<id>\); IAM matches kms:Decrypt on the key's ARN, not an alias: pass key\.arn\.$/;

/** The `kms:` statements of the role policy named `policyName`, as [actions, resources]. */
function kmsStatements(resources: RecordedResource[], policyName: string): Array<[string[], string[]]> {
  const policy = one(resources, TYPES.rolePolicy, policyName);
  return JSON.parse(policy.inputs.policy).Statement
    .filter((s: { Action: string[] }) => s.Action.some((action) => action.startsWith("kms:")))
    .map((s: { Action: string[]; Resource: string[] }) => [s.Action, s.Resource]);
}

const queues = (resources: RecordedResource[]) => ofType(resources, TYPES.queue).map((q) => [q.name, q.inputs.kmsMasterKeyId, q.inputs.sqsManagedSseEnabled]);

describe("customer-managed keys (kmsKeyArn)", () => {
  describe("SecureFunction", () => {
    it("encrypts its SecureStrings, log group and environment with the key, and may only decrypt with it", async () => {
      const { resources } = await record(() => new SecureFunction("api", {
        handler: HELLO, kmsKeyArn: KEY, environment: { STAGE: "dev" }, parameters: { limit: "5" }, secrets: { token: pulumi.secret("s3cr3t-value") },
      }));
      expect(one(resources, TYPES.logGroup).inputs.kmsKeyId).to.equal(KEY);
      const parameters = ofType(resources, TYPES.parameter).map((p) => [p.inputs.type, p.inputs.keyId]);
      expect(parameters).to.deep.equal([["String", undefined], ["SecureString", KEY]]);
      expect(one(resources, TYPES.function).inputs.kmsKeyArn).to.equal(KEY);
      expect(kmsStatements(resources, "api-policy")).to.deep.equal([[["kms:Decrypt"], [KEY]]]);
    });

    it("grants no kms action without secrets to read, and sets no key without kmsKeyArn", async () => {
      const withKey = await record(() => new SecureFunction("api", { handler: HELLO, kmsKeyArn: KEY, parameters: { limit: "5" } }));
      expect(kmsStatements(withKey.resources, "api-policy")).to.deep.equal([]);
      const without = await record(() => new SecureFunction("api", { handler: HELLO, secrets: { token: pulumi.secret("s3cr3t-value") } }));
      expect(one(without.resources, TYPES.logGroup).inputs.kmsKeyId).to.equal(undefined);
      expect(one(without.resources, TYPES.parameter).inputs.keyId).to.equal(undefined);
      expect(one(without.resources, TYPES.function).inputs.kmsKeyArn).to.equal(undefined);
      expect(kmsStatements(without.resources, "api-policy")).to.deep.equal([]);
    });

    it("refuses an alias (or any non-key ARN) at construction", async () => {
      await expectRefused(() => new SecureFunction("api", { handler: HELLO, kmsKeyArn: ALIAS }), "SecureFunction", "api", [["kmsKeyArn", ALIAS_REFUSED]]);
    });

    it("fails the deployment when an Output kmsKeyArn resolves to an alias", async () => {
      await expectDeploymentFailure(() => new SecureFunction("api", { handler: HELLO, kmsKeyArn: pulumi.output(ALIAS) }), "SecureFunction", "api", ["kmsKeyArn", ALIAS_REFUSED]);
    });
  });

  describe("QueueWorker", () => {
    it("encrypts the queue and its dead-letter queue with the key (not SSE-SQS); the consumer decrypts, a producer encrypts", async () => {
      let worker: QueueWorker | undefined;
      const { resources } = await record(() => { worker = new QueueWorker("orders", { handler: WORKER, kmsKeyArn: KEY }); });
      expect(queues(resources)).to.deep.equal([["orders-dlq", KEY, undefined], ["orders-queue", KEY, undefined]]);
      expect(kmsStatements(resources, "orders-consumer-policy")).to.deep.equal([[["kms:Decrypt"], [KEY]]]);
      expect(worker!.sendPermissions.slice(1)).to.deep.equal([{ actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: [KEY] }]);
    });

    it("keeps SSE-SQS and grants nothing on any key without kmsKeyArn", async () => {
      let worker: QueueWorker | undefined;
      const { resources } = await record(() => { worker = new QueueWorker("orders", { handler: WORKER }); });
      expect(queues(resources)).to.deep.equal([["orders-dlq", undefined, true], ["orders-queue", undefined, true]]);
      expect(kmsStatements(resources, "orders-consumer-policy")).to.deep.equal([]);
      expect(worker!.sendPermissions).to.have.length(1);
    });

    it("refuses an alias at construction, and an Output alias once, against the worker, when it resolves", async () => {
      await expectRefused(() => new QueueWorker("orders", { handler: WORKER, kmsKeyArn: ALIAS }), "QueueWorker", "orders", [["kmsKeyArn", ALIAS_REFUSED]]);
      await expectDeploymentFailure(() => new QueueWorker("orders", { handler: WORKER, kmsKeyArn: pulumi.output(ALIAS) }), "QueueWorker", "orders", ["kmsKeyArn", ALIAS_REFUSED]);
    });
  });

  describe("StreamWorker", () => {
    it("encrypts its dead-letter queue with kmsKeyArn, which Lambda sends to with the consumer's role; the stream's own key is only decrypted", async () => {
      const { resources } = await record(() => new StreamWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, kmsKeyArn: KEY, streamKmsKeyArn: STREAM_KEY }));
      expect(queues(resources)).to.deep.equal([["changes-dlq", KEY, undefined]]);
      expect(kmsStatements(resources, "changes-consumer-policy")).to.deep.equal([[["kms:GenerateDataKey", "kms:Decrypt"], [KEY]], [["kms:Decrypt"], [STREAM_KEY]]]);
    });

    it("refuses an alias as kmsKeyArn at construction", async () => {
      await expectRefused(() => new StreamWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, kmsKeyArn: ALIAS }), "StreamWorker", "changes", [["kmsKeyArn", ALIAS_REFUSED]]);
    });
  });

  describe("EventWorker", () => {
    it("encrypts its dead-letter queue; the function's role (Lambda's destination) and the Scheduler's role may encrypt for it", async () => {
      const { resources } = await record(() => new EventWorker("events", {
        handler: WORKER, kmsKeyArn: KEY,
        triggers: { nightly: { schedule: { expression: "rate(1 day)" } }, orders: { topic: { topicArn: TOPIC } } },
      }));
      expect(queues(resources)).to.deep.equal([["events-dlq", KEY, undefined]]);
      const send: [string[], string[]] = [["kms:GenerateDataKey", "kms:Decrypt"], [KEY]];
      expect(kmsStatements(resources, "events-function-policy")).to.deep.equal([send]);
      expect(kmsStatements(resources, "events-scheduler-policy")).to.deep.equal([send]);
    });

    it("grants nothing on the key when the failed events go to the user's own queue", async () => {
      const { resources } = await record(() => new EventWorker("events", {
        handler: WORKER, kmsKeyArn: KEY, deadLetterQueueArn: "arn:aws:sqs:eu-west-1:123456789012:failed", triggers: { nightly: { schedule: { expression: "rate(1 day)" } } },
      }));
      expect(queues(resources)).to.deep.equal([]);
      expect(kmsStatements(resources, "events-function-policy")).to.deep.equal([]);
      expect(kmsStatements(resources, "events-scheduler-policy")).to.deep.equal([]);
    });
  });

  describe("ServerlessApi", () => {
    it("encrypts the access log group with its kmsKeyArn, and refuses an alias", async () => {
      const { resources } = await record(() => new ServerlessApi("shop", { kmsKeyArn: KEY, routes: { "GET /health": { handler: HELLO, auth: "none" } } }));
      expect(one(resources, TYPES.logGroup, "shop-access-logs").inputs.kmsKeyId).to.equal(KEY);
      await expectRefused(() => new ServerlessApi("shop", { kmsKeyArn: ALIAS, routes: { "GET /health": { handler: HELLO, auth: "none" } } }), "ServerlessApi", "shop", [["kmsKeyArn", ALIAS_REFUSED]]);
    });
  });
});
