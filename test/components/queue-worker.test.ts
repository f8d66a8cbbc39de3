import { createHash } from "crypto";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { QueueWorker, QueueWorkerArgs } from "../../components";
import { CONSUMER_ACTIONS, planQueueWorker } from "../../components/queue-worker";
import { Evaluation } from "../../tools/mock-engine";
import { one, ofType, record, RecordedResource } from "../mocks";
import { ACCOUNT, childrenOf, expectRefused, lambdaArn, libraryTags, recordComponent, sqsArn, statementsBySid, TEST_REGION, TYPES, WORKER } from "./support";

const ALERTS = "arn:aws:sns:eu-west-1:123456789012:alerts";

function recordWorker(name: string, args: QueueWorkerArgs) {
  return recordComponent(() => new QueueWorker(name, args), (worker) => ({
    queueUrl: worker.queueUrl,
    queueArn: worker.queueArn,
    sendPermission: { actions: worker.sendPermission.actions, resources: pulumi.all(worker.sendPermission.resources) },
  }));
}

function refuse(args: Partial<QueueWorkerArgs>, problems: Array<[string, RegExp]>) {
  return expectRefused(() => new QueueWorker("jobs", { handler: WORKER, ...args }), "QueueWorker", "jobs", problems);
}

function tlsOnly(arn: string) {
  return {
    Version: "2012-10-17",
    Statement: [{
      Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: arn,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    }],
  };
}

describe("QueueWorker", () => {
  describe("with the defaults", () => {
    let evaluation: Evaluation & { component: QueueWorker };
    let resources: RecordedResource[];

    before(async () => {
      evaluation = await recordWorker("jobs", { handler: WORKER });
      resources = evaluation.resources;
    });

    it("registers the queues, their policies, the consumer, the mapping and two alarms under the component", () => {
      const component = one(resources, TYPES.queueWorker, "jobs");
      expect(childrenOf(resources, component.urn).map((r) => `${r.type}::${r.name}`).sort()).to.deep.equal([
        `${TYPES.queue}::jobs-dlq`,
        `${TYPES.queue}::jobs-queue`,
        `${TYPES.queuePolicy}::jobs-queue-tls-only`,
        `${TYPES.queuePolicy}::jobs-dlq-tls-only`,
        `${TYPES.secureFunction}::jobs-consumer`,
        `${TYPES.eventSourceMapping}::jobs-mapping`,
        `${TYPES.alarm}::jobs-dead-letters`,
        `${TYPES.alarm}::jobs-backlog-age`,
      ].sort());
    });

    it("keeps dead letters encrypted for 14 days, longer than the source queue keeps messages", () => {
      const dlq = one(resources, TYPES.queue, "jobs-dlq");
      expect(dlq.inputs).to.deep.equal({ tags: libraryTags("QueueWorker/jobs"), name: "shop-dev-jobs-dlq", messageRetentionSeconds: 1209600, sqsManagedSseEnabled: true });
      expect(dlq.inputs.messageRetentionSeconds).to.be.greaterThan(one(resources, TYPES.queue, "jobs-queue").inputs.messageRetentionSeconds);
    });

    it("creates the encrypted source queue, visibility 6 x timeout, redriving to the DLQ after 5 receives", () => {
      const queue = one(resources, TYPES.queue, "jobs-queue");
      const { redrivePolicy, ...inputs } = queue.inputs;
      expect(inputs).to.deep.equal({
        tags: libraryTags("QueueWorker/jobs"),
        name: "shop-dev-jobs",
        messageRetentionSeconds: 345600,
        visibilityTimeoutSeconds: 60,
        sqsManagedSseEnabled: true,
      });
      expect(JSON.parse(redrivePolicy)).to.deep.equal({ deadLetterTargetArn: sqsArn("shop-dev-jobs-dlq"), maxReceiveCount: 5 });
      expect(queue.dependencies).to.include(one(resources, TYPES.queue, "jobs-dlq").urn);
    });

    it("refuses every request not made over TLS, on both queues", () => {
      const queuePolicy = one(resources, TYPES.queuePolicy, "jobs-queue-tls-only");
      const dlqPolicy = one(resources, TYPES.queuePolicy, "jobs-dlq-tls-only");
      expect(queuePolicy.inputs.queueUrl).to.equal(`https://sqs.${TEST_REGION}.amazonaws.com/${ACCOUNT}/shop-dev-jobs`);
      expect(JSON.parse(queuePolicy.inputs.policy)).to.deep.equal(tlsOnly(sqsArn("shop-dev-jobs")));
      expect(dlqPolicy.inputs.queueUrl).to.equal(`https://sqs.${TEST_REGION}.amazonaws.com/${ACCOUNT}/shop-dev-jobs-dlq`);
      expect(JSON.parse(dlqPolicy.inputs.policy)).to.deep.equal(tlsOnly(sqsArn("shop-dev-jobs-dlq")));
    });

    it("grants the consumer exactly the four SQS actions on this queue, and nothing on the DLQ", () => {
      const statements = statementsBySid(one(resources, TYPES.rolePolicy));
      expect(Object.keys(statements)).to.deep.equal(["WriteOwnLogs", "Tracing", "Granted0"]);
      expect(statements.Granted0).to.deep.equal({
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        Resource: [sqsArn("shop-dev-jobs")],
      });
      expect(CONSUMER_ACTIONS).to.deep.equal(statements.Granted0.Action);
    });

    it("creates the consumer function with the SecureFunction defaults", () => {
      const fn = one(resources, TYPES.function);
      expect(fn.inputs.name).to.equal("shop-dev-jobs-consumer");
      expect(fn.inputs.timeout).to.equal(10);
      expect(fn.inputs.handler).to.equal("index.handler");
      expect(one(resources, TYPES.secureFunction).parent).to.equal(one(resources, TYPES.queueWorker).urn);
    });

    it("maps the queue to the function with partial batch responses, batch 10, no window, at most 5 concurrent", () => {
      const mapping = one(resources, TYPES.eventSourceMapping);
      expect(mapping.inputs).to.deep.equal({
        tags: libraryTags("QueueWorker/jobs"),
        eventSourceArn: sqsArn("shop-dev-jobs"),
        functionName: lambdaArn("shop-dev-jobs-consumer"),
        batchSize: 10,
        scalingConfig: { maximumConcurrency: 5 },
        functionResponseTypes: ["ReportBatchItemFailures"],
      });
      // Created once the consumer (and so its role policy) exists.
      expect(mapping.dependencies).to.include(one(resources, TYPES.function).urn);
    });

    it("alarms on visible dead letters and on the age of the oldest message", () => {
      const common = { namespace: "AWS/SQS", statistic: "Maximum", period: 60, comparisonOperator: "GreaterThanOrEqualToThreshold", treatMissingData: "notBreaching", alarmActions: [], okActions: [] };
      expect(one(resources, TYPES.alarm, "jobs-dead-letters").inputs).to.deep.equal({
        tags: libraryTags("QueueWorker/jobs"),
        ...common,
        name: "shop-dev-jobs-dead-letters",
        alarmDescription: "jobs: messages failed 5 times and wait in the dead-letter queue.",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: "shop-dev-jobs-dlq" },
        evaluationPeriods: 1,
        threshold: 1,
      });
      expect(one(resources, TYPES.alarm, "jobs-backlog-age").inputs).to.deep.equal({
        tags: libraryTags("QueueWorker/jobs"),
        ...common,
        name: "shop-dev-jobs-backlog-age",
        alarmDescription: "jobs: the oldest message has waited 900 s or more.",
        metricName: "ApproximateAgeOfOldestMessage",
        dimensions: { QueueName: "shop-dev-jobs" },
        evaluationPeriods: 5,
        threshold: 900,
      });
      // The consumer's own alarms (errors, throttles, duration) come with SecureFunction.
      expect(ofType(resources, TYPES.alarm).map((a) => a.name).sort()).to.deep.equal([
        "jobs-backlog-age", "jobs-consumer-duration", "jobs-consumer-errors", "jobs-consumer-throttles", "jobs-dead-letters",
      ]);
    });

    it("exposes the queue and the statement a producer needs to send to it", () => {
      expect(evaluation.outputs).to.deep.equal({
        queueUrl: `https://sqs.${TEST_REGION}.amazonaws.com/${ACCOUNT}/shop-dev-jobs`,
        queueArn: sqsArn("shop-dev-jobs"),
        sendPermission: { actions: ["sqs:SendMessage"], resources: [sqsArn("shop-dev-jobs")] },
      });
    });
  });

  describe("with every option set", () => {
    let resources: RecordedResource[];

    before(async () => {
      ({ resources } = await recordWorker("jobs", {
        handler: WORKER,
        timeout: 30,
        batchSize: 100,
        batchWindowSeconds: 5,
        maxConcurrency: 20,
        maxReceiveCount: 3,
        messageRetentionSeconds: 86400,
        maxMessageAgeAlarmSeconds: 120,
        reservedConcurrency: 20,
        provisionedConcurrency: 2,
        alarmActions: [ALERTS],
        permissions: [{ actions: ["dynamodb:UpdateItem"], resources: ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders"] }],
      }));
    });

    it("defaults visibility to 6 x timeout + batch window", () => {
      expect(one(resources, TYPES.queue, "jobs-queue").inputs.visibilityTimeoutSeconds).to.equal(6 * 30 + 5);
      expect(one(resources, TYPES.queue, "jobs-queue").inputs.messageRetentionSeconds).to.equal(86400);
      expect(JSON.parse(one(resources, TYPES.queue, "jobs-queue").inputs.redrivePolicy).maxReceiveCount).to.equal(3);
    });

    it("invokes the alias when the consumer has provisioned concurrency, with the batching settings", () => {
      expect(one(resources, TYPES.eventSourceMapping).inputs).to.deep.equal({
        tags: libraryTags("QueueWorker/jobs"),
        eventSourceArn: sqsArn("shop-dev-jobs"),
        functionName: lambdaArn("shop-dev-jobs-consumer", "live"),
        batchSize: 100,
        maximumBatchingWindowInSeconds: 5,
        scalingConfig: { maximumConcurrency: 20 },
        functionResponseTypes: ["ReportBatchItemFailures"],
      });
      expect(one(resources, TYPES.function).inputs.reservedConcurrentExecutions).to.equal(20);
    });

    it("appends the consumer statement after the user's permissions", () => {
      const statements = statementsBySid(one(resources, TYPES.rolePolicy));
      expect(statements.Granted0.Action).to.deep.equal(["dynamodb:UpdateItem"]);
      expect(statements.Granted1).to.deep.equal({ Effect: "Allow", Action: CONSUMER_ACTIONS, Resource: [sqsArn("shop-dev-jobs")] });
    });

    it("wires alarmActions into the queue alarms and the consumer's alarms", () => {
      const alarms = ofType(resources, TYPES.alarm);
      expect(alarms).to.have.length(5);
      for (const alarm of alarms) {
        expect(alarm.inputs.alarmActions, alarm.name).to.deep.equal([ALERTS]);
        expect(alarm.inputs.okActions, alarm.name).to.deep.equal([ALERTS]);
      }
      expect(one(resources, TYPES.alarm, "jobs-backlog-age").inputs.threshold).to.equal(120);
      expect(one(resources, TYPES.alarm, "jobs-dead-letters").inputs.alarmDescription).to.equal("jobs: messages failed 3 times and wait in the dead-letter queue.");
    });
  });

  describe("settings", () => {
    it("lowers the default backlog alarm to half a short retention, so it can fire before messages expire", async () => {
      const { resources } = await recordWorker("jobs", { handler: WORKER, messageRetentionSeconds: 600 });
      expect(one(resources, TYPES.alarm, "jobs-backlog-age").inputs.threshold).to.equal(300);
    });

    it("uses an explicit visibility timeout as given", async () => {
      const { resources } = await recordWorker("jobs", { handler: WORKER, visibilityTimeoutSeconds: 90 });
      expect(one(resources, TYPES.queue, "jobs-queue").inputs.visibilityTimeoutSeconds).to.equal(90);
    });

    it("makes both queues FIFO, with names ending .fifo, and redrives to the FIFO DLQ", async () => {
      const { resources } = await recordWorker("jobs", { handler: WORKER, fifo: true });
      const queue = one(resources, TYPES.queue, "jobs-queue");
      const dlq = one(resources, TYPES.queue, "jobs-dlq");
      expect(queue.inputs.name).to.equal("shop-dev-jobs.fifo");
      expect(dlq.inputs.name).to.equal("shop-dev-jobs-dlq.fifo");
      expect(queue.inputs.fifoQueue).to.equal(true);
      expect(dlq.inputs.fifoQueue).to.equal(true);
      expect(JSON.parse(queue.inputs.redrivePolicy).deadLetterTargetArn).to.equal(sqsArn("shop-dev-jobs-dlq.fifo"));
      expect(one(resources, TYPES.eventSourceMapping).inputs.eventSourceArn).to.equal(sqsArn("shop-dev-jobs.fifo"));
    });

    it("cuts long FIFO names to 80 characters, keeping .fifo", async () => {
      const name = "order-fulfilment-and-invoice-generation-for-wholesale-customers-in-europe";
      const { resources } = await recordWorker(name, { handler: WORKER, fifo: true });
      const full = `shop-dev-${name}`;
      const digest = createHash("sha256").update(full).digest("hex").slice(0, 8);
      expect(`${full}.fifo`.length).to.be.greaterThan(80);
      const queueName = one(resources, TYPES.queue, `${name}-queue`).inputs.name;
      expect(queueName).to.equal(`${full.slice(0, 80 - 5 - 9)}-${digest}.fifo`).and.to.have.length(80);
      const dlqName = one(resources, TYPES.queue, `${name}-dlq`).inputs.name;
      expect(dlqName).to.have.length(80).and.to.match(/-[0-9a-f]{8}\.fifo$/);
      expect(dlqName).not.to.equal(queueName);
    });

    it("a standard queue has no fifoQueue setting", async () => {
      const { resources } = await recordWorker("jobs", { handler: WORKER, fifo: false });
      for (const queue of ofType(resources, TYPES.queue)) expect(queue.inputs).not.to.have.property("fifoQueue");
    });

    it("passes protect on to every child (stateful queues are protected in prod)", async () => {
      const { resources } = await record(() => {
        new QueueWorker("jobs", { handler: WORKER }, { protect: true });
      });
      const children = resources.filter((r) => r.type !== TYPES.stack);
      expect(children).to.have.length(16);
      expect(children.filter((r) => !r.protect).map((r) => r.name)).to.deep.equal([]);
      const unprotected = await recordWorker("jobs", { handler: WORKER });
      expect(unprotected.resources.filter((r) => r.protect).map((r) => r.name)).to.deep.equal([]);
    });

    it("accepts the edges: FIFO batch 10, batch 10000 with a window, visibility == 6 x timeout + window, maxConcurrency == reserved", () => {
      expect(planQueueWorker("q", { handler: WORKER, fifo: true, batchSize: 10 }).settings.batchSize).to.equal(10);
      expect(planQueueWorker("q", { handler: WORKER, batchSize: 10000, batchWindowSeconds: 1 }).settings.visibilityTimeoutSeconds).to.equal(61);
      expect(planQueueWorker("q", { handler: WORKER, timeout: 20, batchWindowSeconds: 3, visibilityTimeoutSeconds: 123 }).settings.visibilityTimeoutSeconds).to.equal(123);
      expect(planQueueWorker("q", { handler: WORKER, reservedConcurrency: 5, maxConcurrency: 5 }).settings.maxConcurrency).to.equal(5);
      expect(planQueueWorker("q", { handler: WORKER, messageRetentionSeconds: 1209599 }).settings.messageRetentionSeconds).to.equal(1209599);
    });

    it("passes only the function's arguments on to the consumer", () => {
      const { functionArgs } = planQueueWorker("q", { handler: WORKER, timeout: 20, batchSize: 5, fifo: true, maxReceiveCount: 2, memorySize: 256 });
      expect(functionArgs).to.deep.equal({ handler: WORKER, timeout: 20, memorySize: 256 });
    });
  });

  describe("validation (nothing is registered)", () => {
    const cases: Array<[string, Partial<QueueWorkerArgs>, Array<[string, RegExp]>]> = [
      ["a batch above 10 without a window", { batchSize: 11 }, [["batchSize", /^11 is above 10, which needs batchWindowSeconds of 1 or more; set batchWindowSeconds or lower batchSize\.$/]]],
      ["a batch of 0", { batchSize: 0 }, [["batchSize", /^0 messages is outside 1-10000 messages/]]],
      ["a batch above 10000", { batchSize: 10001, batchWindowSeconds: 1 }, [["batchSize", /^10001 messages is outside 1-10000 messages/]]],
      ["a FIFO batch above 10", { fifo: true, batchSize: 11 }, [["batchSize", /^11 messages \(FIFO\) is outside 1-10 messages \(FIFO\)/]]],
      ["a FIFO queue with a batch window", { fifo: true, batchWindowSeconds: 1 }, [["batchWindowSeconds", /^FIFO queues do not support a batch window; set it to 0\.$/]]],
      ["a batch window above 300 s", { batchWindowSeconds: 301 }, [["batchWindowSeconds", /^301 seconds is outside 0-300 seconds/]]],
      ["maxConcurrency 1", { maxConcurrency: 1 }, [["maxConcurrency", /^1 invocations is outside 2-1000 invocations/]]],
      ["maxConcurrency above 1000", { maxConcurrency: 1001 }, [["maxConcurrency", /^1001 invocations is outside 2-1000/]]],
      ["maxConcurrency above reservedConcurrency", { reservedConcurrency: 3 }, [["maxConcurrency", /^5 is above reservedConcurrency 3; throttled batches go back to the queue/]]],
      ["maxReceiveCount 0", { maxReceiveCount: 0 }, [["maxReceiveCount", /^0 receives is outside 1-1000 receives/]]],
      ["retention below 60 s", { messageRetentionSeconds: 59 }, [["messageRetentionSeconds", /^59 seconds is outside 60-1209599 seconds/]]],
      ["retention of 14 days (the DLQ must keep messages longer)", { messageRetentionSeconds: 1209600 }, [["messageRetentionSeconds", /^1209600 seconds is outside 60-1209599 seconds/]]],
      ["a backlog alarm of 0 s", { maxMessageAgeAlarmSeconds: 0 }, [["maxMessageAgeAlarmSeconds", /^0 seconds is outside 1-1209600 seconds/]]],
      ["a backlog alarm that messages expire before", { messageRetentionSeconds: 600, maxMessageAgeAlarmSeconds: 600 }, [["maxMessageAgeAlarmSeconds", /^600 seconds is not below messageRetentionSeconds 600; messages expire before the alarm could fire/]]],
      ["a visibility timeout below the function timeout", { timeout: 10, visibilityTimeoutSeconds: 9 }, [["visibilityTimeoutSeconds", /^9 seconds is below 60, 6x the function timeout of 10 s plus the batch window of 0 s \(AWS's recommendation\); a batch still in work, or retried after a throttle, would be delivered again\. Use at least 60, or leave it out for that default\.$/]]],
      ["a visibility timeout equal to the function timeout", { timeout: 20, visibilityTimeoutSeconds: 20 }, [["visibilityTimeoutSeconds", /^20 seconds is below 120, 6x the function timeout of 20 s plus the batch window of 0 s/]]],
      ["a visibility timeout of 6x the timeout that forgets the batch window", { timeout: 30, batchWindowSeconds: 5, visibilityTimeoutSeconds: 180 }, [["visibilityTimeoutSeconds", /^180 seconds is below 185, 6x the function timeout of 30 s plus the batch window of 5 s/]]],
      ["a disabled consumer", { disabled: true }, [["disabled", /^throttles every batch; throttled batches go back to the queue and count towards maxReceiveCount, so messages end in the dead-letter queue\. Remove disabled: true\.$/]]],
      ["a visibility timeout above 12 hours", { visibilityTimeoutSeconds: 43201 }, [["visibilityTimeoutSeconds", /^43201 seconds is outside 0-43200 seconds/]]],
      ["a bad consumer setting", { memorySize: 64 }, [["memorySize", /^64 MB is outside 128-10240 MB/]]],
      ["a consumer with a missing handler file", { handler: "test/fixtures/missing.handler" }, [["handler", /^no file "test\/fixtures\/missing"/]]],
    ];
    for (const [what, args, problems] of cases) {
      it(`refuses ${what}`, async () => {
        await refuse(args, problems);
      });
    }

    it("reports every queue and consumer problem in one error", async () => {
      const error = await refuse(
        { fifo: true, batchSize: 20, batchWindowSeconds: 2, maxConcurrency: 50, reservedConcurrency: 10, visibilityTimeoutSeconds: 5, memorySize: 1, permissions: [{ actions: ["sqs:*"], resources: ["*"] }] },
        [
          ["batchSize", /\(FIFO\)/],
          ["batchWindowSeconds", /FIFO queues do not support a batch window/],
          ["maxConcurrency", /50 is above reservedConcurrency 10/],
          ["visibilityTimeoutSeconds", /5 seconds is below 62, 6x the function timeout of 10 s plus the batch window of 2 s/],
          ["memorySize", /1 MB/],
          ["permissions[0].actions", /"sqs:\*" grants every action/],
          ["permissions[0].resources", /every resource/],
        ],
      );
      expect(error.message).to.match(/^QueueWorker "jobs" has invalid arguments:\n/);
    });
  });

  describe("deployment (through the function settings)", () => {
    it("deploys the consumer with CodeDeploy, and the mapping invokes its alias", async () => {
      const { resources } = await recordWorker("jobs", { handler: WORKER, deployment: { strategy: "linear", percentage: 10, intervalMinutes: 1 } });
      const group = one(resources, "aws:codedeploy/deploymentGroup:DeploymentGroup", "jobs-consumer-deployment-group");
      expect(group.inputs.deploymentConfigName).to.equal("CodeDeployDefault.LambdaLinear10PercentEvery1Minute");
      expect(one(resources, TYPES.eventSourceMapping).inputs.functionName).to.equal(one(resources, TYPES.alias).outputs.arn);
    });

    it("reports a bad deployment under the worker", () => refuse({ deployment: { strategy: "linear", percentage: 10 } }, [
      ["deployment.intervalMinutes", /is required by strategy "linear"/],
    ]));
  });
});
