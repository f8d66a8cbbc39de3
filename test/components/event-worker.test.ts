import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { EventWorker, EventWorkerArgs } from "../../components";
import { checkTriggers, scheduleExpressionProblem } from "../../components/event-triggers";
import { planEventWorker } from "../../components/event-worker";
import { ComponentArgumentsError, ProblemCollector } from "../../components/validation";
import { checkPolicies } from "../../tools/policy-check";
import { Evaluation } from "../../tools/mock-engine";
import { one, ofType, record, RecordedResource } from "../mocks";
import { ACCOUNT, childrenOf, expectDeploymentFailure, expectRefused, lambdaArn, libraryTags, physical, recordComponent, sqsArn, statementsBySid, TEST_REGION, TYPES, WORKER } from "./support";

const T = {
  ...TYPES,
  eventWorker: "serverless-components:index:EventWorker",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  schedule: "aws:scheduler/schedule:Schedule",
  notification: "aws:s3/bucketNotification:BucketNotification",
} as const;

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:orders";
const USER_DLQ = "arn:aws:sqs:eu-west-1:123456789012:my-failures";
const FUNCTION = physical("events-function");
const DLQ = sqsArn(physical("events-dlq"));
const RULE_ARN = `arn:aws:events:${TEST_REGION}:${ACCOUNT}:rule/${physical("events-shipped")}`;

const EVERY_KIND: EventWorkerArgs["triggers"] = {
  orders: { topic: { topicArn: TOPIC, filterPolicy: JSON.stringify({ kind: ["created", "paid"] }) } },
  shipped: { rule: { eventPattern: JSON.stringify({ source: ["shipping"] }) } },
  nightly: { schedule: { expression: "cron(0 3 * * ? *)", timezone: "Europe/Paris" } },
  images: { bucket: { bucketName: "shop-uploads", events: ["s3:ObjectCreated:*"], prefix: "images/" } },
  deletions: { bucket: { bucketName: "shop-uploads", events: ["s3:ObjectRemoved:*"] } },
};

function recordWorker(name: string, args: EventWorkerArgs) {
  return recordComponent(() => new EventWorker(name, args), (worker) => ({
    functionArn: worker.functionArn,
    targetArn: worker.targetArn,
    deadLetterQueueArn: worker.deadLetterQueueArn,
  }));
}

function refuse(args: Partial<EventWorkerArgs>, problems: Array<[string, RegExp]>) {
  return expectRefused(() => new EventWorker("events", { handler: WORKER, triggers: { nightly: { schedule: { expression: "rate(1 hour)" } } }, ...args }), "EventWorker", "events", problems);
}

describe("EventWorker", () => {
  describe("with a trigger of every kind and the defaults", () => {
    let evaluation: Evaluation & { component: EventWorker };
    let resources: RecordedResource[];

    before(async () => {
      evaluation = await recordWorker("events", { handler: WORKER, triggers: EVERY_KIND });
      resources = evaluation.resources;
    });

    it("registers the function, the DLQ, each trigger's resources, the scheduler role and the alarms under the component", () => {
      const component = one(resources, T.eventWorker, "events");
      expect(childrenOf(resources, component.urn).map((r) => `${r.type}::${r.name}`).sort()).to.deep.equal([
        `${T.secureFunction}::events-function`,
        `${T.queue}::events-dlq`,
        `${T.queuePolicy}::events-dlq-tls-only`,
        `${T.alarm}::events-dead-letters`,
        `${T.alarm}::events-async-events-dropped`,
        `${T.subscription}::events-orders`,
        `${T.permission}::events-orders-permission`,
        `${T.rule}::events-shipped`,
        `${T.target}::events-shipped-target`,
        `${T.permission}::events-shipped-permission`,
        `${T.schedule}::events-nightly`,
        `${T.role}::events-scheduler-role`,
        `${T.rolePolicy}::events-scheduler-policy`,
        `${T.notification}::events-shop-uploads`,
        `${T.permission}::events-shop-uploads-permission`,
      ].sort());
      expect(Object.keys(evaluation.component.subscriptions).sort()).to.deep.equal(Object.keys(EVERY_KIND).sort());
      expect(evaluation.component.subscriptions.images).to.equal(evaluation.component.subscriptions.deletions);
      expect(evaluation.component.function).to.be.instanceOf(pulumi.ComponentResource);
    });

    it("configures asynchronous invocation on the function: 2 retries, 6 hours, failures to its DLQ", async () => {
      expect(one(resources, T.invokeConfig, "events-function-async-invoke").inputs).to.deep.equal({
        functionName: FUNCTION,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 21600,
        destinationConfig: { onFailure: { destination: DLQ } },
      });
      expect(evaluation.outputs).to.deep.equal({ functionArn: lambdaArn(FUNCTION), targetArn: lambdaArn(FUNCTION), deadLetterQueueArn: DLQ });
    });

    it("lets the function's role send to the DLQ, and nothing else beyond logs and tracing", () => {
      expect(statementsBySid(one(resources, T.rolePolicy, "events-function-policy"))).to.deep.equal({
        WriteOwnLogs: { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`arn:aws:logs:${TEST_REGION}:${ACCOUNT}:log-group:/aws/lambda/${FUNCTION}:*`] },
        Tracing: { Effect: "Allow", Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource: ["*"] },
        SendFailedAsyncEvents: { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ] },
      });
    });

    it("subscribes the function to the topic with its filter policy, allowed for that topic only", () => {
      const subscription = one(resources, T.subscription, "events-orders");
      expect(subscription.inputs).to.deep.equal({
        topic: TOPIC, protocol: "lambda", endpoint: lambdaArn(FUNCTION),
        filterPolicy: JSON.stringify({ kind: ["created", "paid"] }), filterPolicyScope: "MessageAttributes",
        redrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ }),
      });
      expect(subscription.dependencies, "subscribed once SNS may send to the DLQ").to.include(one(resources, T.queuePolicy, "events-dlq-tls-only").urn);
      const permission = one(resources, T.permission, "events-orders-permission");
      expect(permission.inputs).to.deep.equal({ action: "lambda:InvokeFunction", function: FUNCTION, principal: "sns.amazonaws.com", sourceArn: TOPIC });
      expect(subscription.dependencies, "subscribed once SNS may invoke").to.include(permission.urn);
    });

    it("targets the function from the rule, retrying delivery for the event age and dead-lettering to the DLQ", () => {
      expect(one(resources, T.rule, "events-shipped").inputs).to.deep.equal({
        tags: libraryTags("EventWorker/events"),
        name: physical("events-shipped"), description: "Runs events (trigger shipped).", eventPattern: JSON.stringify({ source: ["shipping"] }),
      });
      const target = one(resources, T.target, "events-shipped-target");
      expect(target.inputs).to.deep.equal({
        rule: physical("events-shipped"), arn: lambdaArn(FUNCTION),
        retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 21600 },
        deadLetterConfig: { arn: DLQ },
      });
      expect(target.dependencies, "the target exists once EventBridge may send to the DLQ").to.include(one(resources, T.queuePolicy, "events-dlq-tls-only").urn);
      expect(one(resources, T.permission, "events-shipped-permission").inputs).to.deep.equal({
        action: "lambda:InvokeFunction", function: FUNCTION, principal: "events.amazonaws.com", sourceArn: RULE_ARN,
      });
    });

    it("keeps the DLQ TLS-only and lets EventBridge and SNS send to it for this worker's rules and topics only", () => {
      expect(JSON.parse(one(resources, T.queuePolicy, "events-dlq-tls-only").inputs.policy)).to.deep.equal({
        Version: "2012-10-17",
        Statement: [
          { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: DLQ, Condition: { Bool: { "aws:SecureTransport": "false" } } },
          {
            Sid: "EventBridgeRulesSendUndeliveredEvents", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: DLQ,
            Condition: { ArnEquals: { "aws:SourceArn": [RULE_ARN] } },
          },
          {
            Sid: "TopicsSendUndeliveredMessages", Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Action: "sqs:SendMessage", Resource: DLQ,
            Condition: { ArnEquals: { "aws:SourceArn": [TOPIC] } },
          },
        ],
      });
    });

    it("runs the schedule in its time zone through a role that may invoke only the function and send only to the DLQ", () => {
      const role = one(resources, T.role, "events-scheduler-role");
      expect(one(resources, T.schedule, "events-nightly").inputs).to.deep.equal({
        name: physical("events-nightly"), description: "Runs events (trigger nightly).",
        scheduleExpression: "cron(0 3 * * ? *)", scheduleExpressionTimezone: "Europe/Paris",
        flexibleTimeWindow: { mode: "OFF" },
        target: {
          arn: lambdaArn(FUNCTION), roleArn: `arn:aws:iam::${ACCOUNT}:role/${physical("events-scheduler")}`,
          retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 21600 },
          deadLetterConfig: { arn: DLQ },
        },
      });
      expect(JSON.parse(role.inputs.assumeRolePolicy)).to.deep.equal({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "scheduler.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } } }],
      });
      const policy = one(resources, T.rolePolicy, "events-scheduler-policy");
      expect(policy.inputs.role).to.equal(physical("events-scheduler"));
      expect(statementsBySid(policy)).to.deep.equal({
        InvokeTarget: { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [lambdaArn(FUNCTION)] },
        SendDeadLetters: { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ] },
      });
      expect(one(resources, T.schedule, "events-nightly").dependencies, "scheduled once the role may invoke").to.include(policy.urn);
    });

    it("gives each bucket one notification with all its triggers, allowed for that bucket in this account", () => {
      const notification = one(resources, T.notification, "events-shop-uploads");
      expect(notification.inputs).to.deep.equal({
        bucket: "shop-uploads",
        lambdaFunctions: [
          { id: "images", lambdaFunctionArn: lambdaArn(FUNCTION), events: ["s3:ObjectCreated:*"], filterPrefix: "images/" },
          { id: "deletions", lambdaFunctionArn: lambdaArn(FUNCTION), events: ["s3:ObjectRemoved:*"] },
        ],
      });
      const permission = one(resources, T.permission, "events-shop-uploads-permission");
      expect(permission.inputs).to.deep.equal({
        action: "lambda:InvokeFunction", function: FUNCTION, principal: "s3.amazonaws.com", sourceArn: "arn:aws:s3:::shop-uploads", sourceAccount: ACCOUNT,
      });
      expect(notification.dependencies).to.include(permission.urn);
    });

    it("alarms on dead letters and on dropped events", () => {
      expect(one(resources, T.alarm, "events-async-events-dropped").inputs).to.deep.equal({
        tags: libraryTags("EventWorker/events"),
        name: physical("events-async-events-dropped"),
        alarmDescription: "events: events failed every try or expired; Lambda sent them to the dead-letter queue, or dropped them if it could not.",
        namespace: "AWS/Lambda", metricName: "AsyncEventsDropped", dimensions: { FunctionName: FUNCTION },
        statistic: "Sum", period: 60, evaluationPeriods: 1, threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold", treatMissingData: "notBreaching", alarmActions: [], okActions: [],
      });
      expect(one(resources, T.alarm, "events-dead-letters").inputs.dimensions).to.deep.equal({ QueueName: physical("events-dlq") });
      expect(evaluation.component.alarms).to.have.length(2);
    });

    it("passes the policy pack, async failure destination included", async () => {
      const verdicts = await checkPolicies(resources);
      expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
      expect(verdicts.find((v) => v.policy === "lambda-async-failure-destination")!.checked).to.be.greaterThan(0);
    });
  });

  describe("with an alias (provisioned concurrency)", () => {
    let resources: RecordedResource[];
    const ALIAS = lambdaArn(FUNCTION, "live");

    before(async () => {
      ({ resources } = await recordWorker("events", { handler: WORKER, provisionedConcurrency: 1, triggers: EVERY_KIND }));
    });

    it("points every trigger at the alias and scopes every permission to it", () => {
      expect(one(resources, T.subscription).inputs.endpoint).to.equal(ALIAS);
      expect(one(resources, T.target).inputs.arn).to.equal(ALIAS);
      expect(one(resources, T.schedule).inputs.target.arn).to.equal(ALIAS);
      expect(one(resources, T.notification).inputs.lambdaFunctions.map((f: { lambdaFunctionArn: string }) => f.lambdaFunctionArn)).to.deep.equal([ALIAS, ALIAS]);
      expect(ofType(resources, T.permission).map((p) => p.inputs.qualifier)).to.deep.equal(["live", "live", "live"]);
      expect(statementsBySid(one(resources, T.rolePolicy, "events-scheduler-policy")).InvokeTarget.Resource).to.deep.equal([ALIAS]);
    });

    it("configures asynchronous invocation on the alias, which the policy pack accepts", async () => {
      expect(one(resources, T.invokeConfig).inputs.qualifier).to.equal("live");
      const verdicts = await checkPolicies(resources);
      expect(verdicts.flatMap((v) => v.violations).map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    });
  });

  describe("with the user's dead-letter queue and an on-success destination", () => {
    let resources: RecordedResource[];
    const SUCCESS = "arn:aws:events:eu-west-1:123456789012:event-bus/audit";

    before(async () => {
      ({ resources } = await recordWorker("events", {
        handler: WORKER, deadLetterQueueArn: USER_DLQ, onSuccess: SUCCESS, maxRetries: 0, maxEventAgeSeconds: 60,
        triggers: { shipped: EVERY_KIND.shipped, nightly: EVERY_KIND.nightly },
      }));
    });

    it("creates no queue and sends every failure to the user's", () => {
      expect(ofType(resources, T.queue)).to.deep.equal([]);
      expect(ofType(resources, T.queuePolicy)).to.deep.equal([]);
      expect(ofType(resources, T.alarm).map((a) => a.name)).not.to.include("events-dead-letters");
      expect(one(resources, T.invokeConfig).inputs).to.deep.equal({
        functionName: FUNCTION, maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60,
        destinationConfig: { onFailure: { destination: USER_DLQ }, onSuccess: { destination: SUCCESS } },
      });
      expect(one(resources, T.target).inputs.deadLetterConfig).to.deep.equal({ arn: USER_DLQ });
      expect(one(resources, T.target).inputs.retryPolicy).to.deep.equal({ maximumRetryAttempts: 185, maximumEventAgeInSeconds: 60 });
      expect(one(resources, T.schedule).inputs.target.deadLetterConfig).to.deep.equal({ arn: USER_DLQ });
      const statements = statementsBySid(one(resources, T.rolePolicy, "events-function-policy"));
      expect(statements.SendFailedAsyncEvents).to.deep.equal({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [USER_DLQ] });
      expect(statements.SendSucceededAsyncEvents).to.deep.equal({ Effect: "Allow", Action: ["events:PutEvents"], Resource: [SUCCESS] });
      expect(statementsBySid(one(resources, T.rolePolicy, "events-scheduler-policy")).SendDeadLetters.Resource).to.deep.equal([USER_DLQ]);
    });
  });

  it("registers no scheduler role without a schedule, and a rule on a named bus with its target on that bus", async () => {
    const { resources } = await recordWorker("events", { handler: WORKER, triggers: { shipped: { rule: { eventBusName: "orders", eventPattern: JSON.stringify({ source: ["shipping"] }) } } } });
    expect(ofType(resources, T.role).map((r) => r.name)).to.deep.equal(["events-function-role"]);
    expect(one(resources, T.rule).inputs.eventBusName).to.equal("orders");
    expect(one(resources, T.target).inputs.eventBusName).to.equal("orders");
  });

  it("accepts a bus by name or by ARN, in any partition", () => {
    const problems = new ProblemCollector();
    const pattern = JSON.stringify({ source: ["shipping"] });
    checkTriggers({
      named: { rule: { eventBusName: "orders", eventPattern: pattern } },
      byArn: { rule: { eventBusName: `arn:aws:events:${TEST_REGION}:${ACCOUNT}:event-bus/orders`, eventPattern: pattern } },
      inChina: { rule: { eventBusName: `arn:aws-cn:events:cn-north-1:${ACCOUNT}:event-bus/orders`, eventPattern: pattern } },
    }, problems);
    expect(problems.problems).to.deep.equal([]);
  });

  it("fails the deployment when the user's dead-letter queue resolves to something else than a standard SQS queue", async () => {
    // An SNS topic is a valid destination of asynchronous invocations, so only the worker's own check refuses it.
    await expectDeploymentFailure(
      () => new EventWorker("events", { handler: WORKER, deadLetterQueueArn: pulumi.output(TOPIC), triggers: { nightly: EVERY_KIND.nightly } }),
      "EventWorker", "events", ["deadLetterQueueArn", /^"arn:aws:sns:eu-west-1:123456789012:orders" is an ARN of the sns service; give an SQS queue ARN/],
    );
    await expectDeploymentFailure(
      () => new EventWorker("events", { handler: WORKER, deadLetterQueueArn: pulumi.output(`${USER_DLQ}.fifo`), triggers: { nightly: EVERY_KIND.nightly } }),
      "EventWorker", "events", ["deadLetterQueueArn", /is a FIFO queue/],
    );
  });

  describe("validation (nothing is registered)", () => {
    const cases: Array<[string, Partial<EventWorkerArgs>, Array<[string, RegExp]>]> = [
      ["no trigger", { triggers: {} }, [["triggers", /is empty; name at least one trigger/]]],
      ["a trigger with two kinds", { triggers: { both: { topic: { topicArn: TOPIC }, rule: { eventPattern: "{\"source\":[\"a\"]}" } } } }, [["triggers.both", /has topic and rule; give exactly one of topic, rule, schedule, bucket/]]],
      ["a trigger with no kind", { triggers: { nothing: {} } }, [["triggers.nothing", /has none; give exactly one/]]],
      ["a bad trigger name", { triggers: { "my trigger": EVERY_KIND.nightly } }, [["triggers.my trigger", /"my trigger" is not a valid trigger name; use 1-40 letters, digits and "-"/]]],
      ["a topic ARN of another service", { triggers: { t: { topic: { topicArn: USER_DLQ } } } }, [["triggers.t.topic.topicArn", /is an ARN of the sqs service; give an SNS topic ARN, e.g. "arn:aws:sns:/]]],
      ["a FIFO topic, which cannot deliver to Lambda", { triggers: { t: { topic: { topicArn: `${TOPIC}.fifo` } } } }, [["triggers.t.topic.topicArn", /is a FIFO topic, which delivers only to SQS queues; subscribe a FIFO QueueWorker's queue to it, or use a standard topic\./]]],
      ["a filter policy that is not JSON", { triggers: { t: { topic: { topicArn: TOPIC, filterPolicy: "{kind: created}" } } } }, [["triggers.t.topic.filterPolicy", /is not valid JSON .*JSON\.stringify/]]],
      ["a filter policy with 6 attributes", { triggers: { t: { topic: { topicArn: TOPIC, filterPolicy: JSON.stringify({ a: [1], b: [1], c: [1], d: [1], e: [1], f: [1] }) } } } }, [["triggers.t.topic.filterPolicy", /names 6 attributes; SNS allows at most 5/]]],
      ["a filter policy with 151+ combinations", { triggers: { t: { topic: { topicArn: TOPIC, filterPolicy: JSON.stringify({ a: [...Array(16).keys()], b: [...Array(10).keys()] }) } } } }, [["triggers.t.topic.filterPolicy", /has 160 value combinations; SNS allows at most 150/]]],
      ["an unknown filter policy scope", { triggers: { t: { topic: { topicArn: TOPIC, filterPolicyScope: "Body" as never } } } }, [["triggers.t.topic.filterPolicyScope", /"Body" is not allowed; use one of "MessageAttributes", "MessageBody"/]]],
      ["an event pattern that is an empty object", { triggers: { r: { rule: { eventPattern: "{}" } } } }, [["triggers.r.rule.eventPattern", /is not a JSON object with at least one field/]]],
      ["an event pattern over 4096 characters", { triggers: { r: { rule: { eventPattern: JSON.stringify({ source: ["x".repeat(4100)] }) } } } }, [["triggers.r.rule.eventPattern", /characters; EventBridge allows at most 4096/]]],
      ["a bad bus name", { triggers: { r: { rule: { eventBusName: "my bus", eventPattern: "{\"source\":[\"a\"]}" } } } }, [["triggers.r.rule.eventBusName", /"my bus" is not an event bus name or ARN/]]],
      ["a rule's ARN for a bus", { triggers: { r: { rule: { eventBusName: `arn:aws:events:${TEST_REGION}:${ACCOUNT}:rule/orders`, eventPattern: "{\"source\":[\"a\"]}" } } } }, [["triggers.r.rule.eventBusName", /"arn:aws:events:.*:rule\/orders" is not an event bus name or ARN/]]],
      ["a five-field cron", { triggers: { s: { schedule: { expression: "cron(0 3 * * ?)" } } } }, [["triggers.s.schedule.expression", /has 5 fields; a Scheduler cron has 6: minutes hours day-of-month month day-of-week year/]]],
      ["an unknown time zone", { triggers: { s: { schedule: { expression: "rate(1 hour)", timezone: "Europe/Atlantis" } } } }, [["triggers.s.schedule.timezone", /"Europe\/Atlantis" is not an IANA time zone; use e.g. "Europe\/Paris"/]]],
      ["a bucket ARN for a name", { triggers: { b: { bucket: { bucketName: "arn:aws:s3:::shop", events: ["s3:ObjectCreated:*"] } } } }, [["triggers.b.bucket.bucketName", /is not an S3 bucket name; .*\(the name, not the ARN\)/]]],
      ["an unknown S3 event", { triggers: { b: { bucket: { bucketName: "shop", events: ["s3:ObjectCreated"] } } } }, [["triggers.b.bucket.events", /"s3:ObjectCreated" is not an S3 event type/]]],
      ["no S3 events", { triggers: { b: { bucket: { bucketName: "shop", events: [] } } } }, [["triggers.b.bucket.events", /is empty; name the S3 event types/]]],
      ["an empty prefix", { triggers: { b: { bucket: { bucketName: "shop", events: ["s3:ObjectCreated:*"], prefix: "" } } } }, [["triggers.b.bucket.prefix", /is not a key prefix of 1-1024 characters/]]],
      ["overlapping notifications on one bucket", {
        triggers: {
          all: { bucket: { bucketName: "shop", events: ["s3:ObjectCreated:*"], suffix: ".jpg" } },
          images: { bucket: { bucketName: "shop", events: ["s3:ObjectCreated:Put"], prefix: "images/" } },
        },
      }, [["triggers.images.bucket", /overlaps trigger "all" on bucket "shop": both match s3:ObjectCreated:Put for keys with prefix "images\/" and suffix "\.jpg", which S3 refuses/]]],
      ["a trigger named like a bucket's notification", { triggers: { shop: EVERY_KIND.nightly, b: { bucket: { bucketName: "shop", events: ["s3:ObjectCreated:*"] } } } }, [["triggers.shop", /has the name of the notification of bucket "shop"/]]],
      ["3 retries", { maxRetries: 3 }, [["maxRetries", /3 retries is outside 0-2 retries/]]],
      ["an event age below a minute", { maxEventAgeSeconds: 59 }, [["maxEventAgeSeconds", /59 seconds is outside 60-21600 seconds/]]],
      ["a dead-letter queue that is a topic", { deadLetterQueueArn: TOPIC }, [["deadLetterQueueArn", /is an ARN of the sns service; give an SQS queue ARN/]]],
      ["a FIFO dead-letter queue", { deadLetterQueueArn: `${USER_DLQ}.fifo` }, [["deadLetterQueueArn", /is a FIFO queue; EventBridge and the Scheduler send dead letters only to standard queues/]]],
      ["an on-success destination that is a bucket", { onSuccess: "arn:aws:s3:::shop" }, [["onSuccess", /is not an ARN; give an SQS queue, an SNS topic, a Lambda function or an EventBridge bus ARN/]]],
      ["asyncInvoke, which the worker sets", { asyncInvoke: { maxRetries: 1 } }, [["asyncInvoke", /is set by EventWorker; use maxRetries, maxEventAgeSeconds, deadLetterQueueArn and onSuccess/]]],
      ["a bad function argument", { memorySize: 64 }, [["memorySize", /64 MB is outside 128-10240 MB/]]],
    ];
    for (const [what, args, problems] of cases) {
      it(`refuses ${what}`, async () => {
        await refuse(args, problems);
      });
    }

    it("reports every problem in one error", async () => {
      const error = await refuse({
        maxRetries: -1, deadLetterQueueArn: "queue",
        triggers: { a: {}, s: { schedule: { expression: "every day" } }, b: { bucket: { bucketName: "B", events: ["s3:Nope"] } } },
      }, [
        ["triggers.a", /has none/],
        ["triggers.s.schedule.expression", /"every day" is not a Scheduler expression; use rate\(5 minutes\), cron\(0 3 \* \* \? \*\)/],
        ["triggers.b.bucket.bucketName", /"B" is not an S3 bucket name/],
        ["triggers.b.bucket.events", /"s3:Nope" is not an S3 event type/],
        ["maxRetries", /-1 retries is outside 0-2/],
        ["deadLetterQueueArn", /"queue" is not an ARN/],
      ]);
      expect(error).to.be.instanceOf(ComponentArgumentsError);
    });

    it("planEventWorker resolves the defaults without registering anything", () => {
      const { settings, kinds, functionArgs } = planEventWorker("events", { handler: WORKER, triggers: EVERY_KIND, memorySize: 256 });
      expect(settings).to.deep.equal({ maxRetries: 2, maxEventAgeSeconds: 21600 });
      expect(Object.fromEntries(kinds)).to.deep.equal({ orders: "topic", shipped: "rule", nightly: "schedule", images: "bucket", deletions: "bucket" });
      expect(functionArgs).to.deep.equal({ handler: WORKER, memorySize: 256 });
    });
  });

  describe("Scheduler expressions", () => {
    const accepted = [
      "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
      "cron(0 3 * * ? *)", "cron(0/15 * * * ? *)", "cron(0 9 ? * MON-FRI *)", "cron(30 8 1 JAN,JUL ? 2030)", "cron(0 18 L * ? *)",
      "cron(0 10 ? * 6#3 *)", "cron(0 12 15W * ? *)", "cron(5,35 14 * * ? 2026-2030)",
      "at(2030-01-31T09:00:00)", "at(2028-02-29T23:59:59)",
    ];
    const refused: Array<[string, RegExp]> = [
      ["rate(0 minutes)", /0 is not a whole number of 1 or more/],
      ["rate(1.5 hours)", /1\.5 is not a whole number of 1 or more/],
      ["rate(5 weeks)", /is not a Scheduler expression/],
      ["cron(0 3 * * * *)", /exactly one of day-of-month and day-of-week must be "\?"/],
      ["cron(0 3 ? * ? *)", /exactly one of day-of-month and day-of-week must be "\?"/],
      ["cron(60 3 * * ? *)", /the minutes field "60" is not valid; use numbers 0-59/],
      ["cron(0 24 * * ? *)", /the hours field "24" is not valid; use numbers 0-23/],
      ["cron(0 3 * 13 ? *)", /the month field "13" is not valid; use numbers 1-12 \(or names\)/],
      ["cron(0 3 ? * MOON *)", /the day-of-week field "MOON" is not valid/],
      ["cron(0 3 * * ? 1969)", /the year field "1969" is not valid; use numbers 1970-2199/],
      ["cron(? 3 * * ? *)", /the minutes field "\?" is not valid/],
      ["cron(0 3 * * ?)", /has 5 fields/],
      ["at(2030-02-30T09:00:00)", /is not a real date and time/],
      ["at(2030-01-31 09:00:00)", /is not a Scheduler expression/],
      ["at(2030-01-31T24:00:00)", /is not a real date and time/],
      ["0 3 * * *", /is not a Scheduler expression/],
    ];
    for (const expression of accepted) {
      it(`accepts ${expression}`, () => expect(scheduleExpressionProblem(expression)).to.equal(undefined));
    }
    for (const [expression, reason] of refused) {
      it(`refuses ${expression}`, () => expect(scheduleExpressionProblem(expression)).to.match(reason));
    }
  });

  it("the policy pack refuses the same triggers wired without a failure destination (the rule can fail)", async () => {
    const { resources } = await record(() => new EventWorker("events", { handler: WORKER, triggers: { orders: EVERY_KIND.orders } }));
    const withoutConfig = resources.filter((r) => r.type !== T.invokeConfig);
    const verdict = (await checkPolicies(withoutConfig)).find((v) => v.policy === "lambda-async-failure-destination")!;
    expect(verdict.violations.map((v) => v.message)).to.deep.equal([
      `Function events-function is invoked asynchronously (sns.amazonaws.com) but failed events are dropped after the retries; add an aws.lambda.FunctionEventInvokeConfig with destinationConfig.onFailure.destination (an SQS queue or SNS topic).`,
    ]);
  });

  describe("deployment (through the function settings)", () => {
    it("deploys the function with CodeDeploy, and the triggers invoke its alias", async () => {
      const { resources } = await recordWorker("events", { handler: WORKER, triggers: { nightly: EVERY_KIND.nightly }, deployment: { strategy: "canary", percentage: 10, minutes: 10 } });
      expect(one(resources, "aws:codedeploy/deploymentGroup:DeploymentGroup").inputs.deploymentConfigName).to.equal("CodeDeployDefault.LambdaCanary10Percent10Minutes");
      expect(one(resources, "aws:scheduler/schedule:Schedule").inputs.target.arn).to.equal(one(resources, TYPES.alias).outputs.arn);
    });

    it("reports a bad deployment under the worker", () => refuse({ deployment: { strategy: "canary", percentage: 0, minutes: 5 } }, [
      ["deployment.percentage", /0 percent is outside 1-99 percent/],
    ]));
  });
});
