import { expect } from "chai";
import { describeTrafficShift, iamPattern, trafficShiftOf } from "../../policy/graph";
import { parseFunctionReference, policies, secretIn, stackOf, TYPES } from "../../policy/rules";
import { checkPolicies, PackConfig, Violation } from "../../tools/policy-check";
import { RecordedResource } from "../mocks";

const ACCOUNT = "arn:aws:lambda:eu-west-1:123456789012";
const KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/** A recorded resource of the `prod` stack (or `stack`); outputs are the inputs plus `outputs`. */
function resource(type: string, name: string, inputs: Record<string, any>, extra: { id?: string; outputs?: Record<string, any>; stack?: string } = {}): RecordedResource {
  return {
    urn: `urn:pulumi:${extra.stack ?? "prod"}::shop::${type}::${name}`, id: extra.id ?? name, type, name, custom: true, protect: false,
    dependencies: [], inputs, outputs: { ...inputs, ...extra.outputs },
  };
}

const fn = (name: string, inputs: Record<string, any> = {}) =>
  resource(TYPES.function, name, { name, memorySize: 512, timeout: 10, tracingConfig: { mode: "Active" }, ...inputs }, { outputs: { arn: `${ACCOUNT}:function:${name}` } });
const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const lambdaTrust = doc({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" });
const queue = (name: string, inputs: Record<string, any> = {}) =>
  resource(TYPES.queue, name, { name, sqsManagedSseEnabled: true, ...inputs }, { id: `https://sqs/${name}`, outputs: { arn: `arn:aws:sqs:eu-west-1:123456789012:${name}`, url: `https://sqs/${name}` } });

async function violationsOf(rule: string, resources: RecordedResource[], config: PackConfig = {}): Promise<Violation[]> {
  const verdict = (await checkPolicies(resources, config)).find((v) => v.policy === rule);
  if (!verdict) throw new Error(`no rule ${rule} in the pack`);
  return verdict.violations;
}

interface Case {
  rule: string;
  /** Resources that break the rule... */
  bad: RecordedResource[];
  /** ...the messages it must give, one per violation... */
  messages: RegExp[];
  /** ...and the fixed version, which must pass. */
  good: RecordedResource[];
  config?: PackConfig;
}

/** An HTTP API whose POST /orders runs f and GET /orders/{orderId} runs g. */
const apiRoutingToTwoFunctions = () => [
  fn("f"), fn("g"),
  resource(TYPES.api, "api", { protocolType: "HTTP" }, { id: "abc", outputs: { id: "abc", executionArn: "arn:aws:execute-api:eu-west-1:1:abc" } }),
  resource(TYPES.integration, "f-integration", { apiId: "abc", integrationType: "AWS_PROXY", integrationUri: `${ACCOUNT}:function:f` }, { id: "if" }),
  resource(TYPES.integration, "g-integration", { apiId: "abc", integrationType: "AWS_PROXY", integrationUri: `${ACCOUNT}:function:g` }, { id: "ig" }),
  resource(TYPES.route, "post-orders", { apiId: "abc", routeKey: "POST /orders", target: "integrations/if" }),
  resource(TYPES.route, "get-order", { apiId: "abc", routeKey: "GET /orders/{orderId}", target: "integrations/ig" }),
];


/** A function `name` with alias `live`, deployed by group `name` (its alarms and rollback events as given), run by `name-deployer`. */
function deployedFunction(name: string, group: { events?: string[]; alarms?: string[] } = {}, extra: { stack?: string; hooks?: boolean } = {}): RecordedResource[] {
  const stack = { stack: extra.stack };
  const hook = `${name}-before-traffic`;
  const request = { applicationName: "shop", deploymentGroupName: name, functionName: name, aliasName: "live", targetVersion: "2", waitForCompletion: true, ...(extra.hooks ? { beforeTrafficHook: hook } : {}) };
  return [
    resource(TYPES.function, name, { name, publish: true }, { ...stack, outputs: { arn: `${ACCOUNT}:function:${name}` } }),
    resource(TYPES.alias, `${name}-alias`, { name: "live", functionName: name }, stack),
    resource(TYPES.deploymentGroup, `${name}-deployment-group`, {
      appName: "shop", deploymentGroupName: name, deploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
      autoRollbackConfiguration: { enabled: true, events: group.events ?? ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
      alarmConfiguration: { enabled: true, alarms: group.alarms ?? [`${name}-errors`] },
    }, stack),
    // The runner and the hook have no alias: out of the rule's scope.
    resource(TYPES.function, `${name}-deployer`, { name: `${name}-deployer` }, { ...stack, outputs: { arn: `${ACCOUNT}:function:${name}-deployer` } }),
    ...(extra.hooks ? [resource(TYPES.function, hook, { name: hook }, { ...stack, outputs: { arn: `${ACCOUNT}:function:${hook}` } })] : []),
    resource(TYPES.invocation, `${name}-deployment`, { functionName: `${name}-deployer`, input: JSON.stringify(request) }, stack),
  ];
}

const cases: Case[] = [
  {
    rule: "iam-no-wildcard-actions",
    bad: [
      resource(TYPES.rolePolicy, "p", { role: "r", policy: doc({ Sid: "All", Effect: "Allow", Action: ["s3:*", "dynamodb:GetItem"], Resource: "arn:aws:s3:::b" }) }),
      resource(TYPES.role, "r", { assumeRolePolicy: lambdaTrust, inlinePolicies: [{ name: "admin", policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) }] }),
      resource(TYPES.policy, "managed", { policy: doc({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }) }),
    ],
    messages: [/statement All allows "s3:\*", every action of a service; list the actions/, /inline policy admin statement 0 allows "\*"/, /uses NotAction with Allow/],
    good: [resource(TYPES.rolePolicy, "p", { role: "r", policy: doc({ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::b/*" }, { Effect: "Deny", Action: "sqs:*", Resource: "*" }) })],
  },
  {
    rule: "iam-no-wildcard-resources",
    bad: [resource(TYPES.rolePolicy, "p", { role: "r", policy: doc({ Sid: "Data", Effect: "Allow", Action: ["dynamodb:GetItem", "xray:PutTraceSegments"], Resource: "*" }) })],
    messages: [/statement Data grants dynamodb:GetItem on every resource \("\*"\); name the ARNs/],
    good: [resource(TYPES.rolePolicy, "p", { role: "r", policy: doc({ Effect: "Allow", Action: ["xray:PutTraceSegments", "ec2:CreateNetworkInterface"], Resource: "*" }, { Effect: "Allow", Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:eu-west-1:1:table/t" }) })],
  },
  {
    rule: "iam-no-aws-managed-policies-on-function-roles",
    bad: [
      resource(TYPES.role, "fn-role", { name: "fn-role", assumeRolePolicy: lambdaTrust }),
      resource(TYPES.rolePolicyAttachment, "basic", { role: "fn-role", policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" }),
    ],
    messages: [/Function role fn-role has the AWS managed policy arn:aws:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole; remove it/],
    good: [
      resource(TYPES.role, "fn-role", { name: "fn-role", assumeRolePolicy: lambdaTrust }),
      resource(TYPES.role, "ops", { name: "ops", assumeRolePolicy: doc({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::1:root" }, Action: "sts:AssumeRole" }), managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }),
    ],
  },
  {
    rule: "iam-no-mixed-inline-and-attached-policies",
    bad: [
      resource(TYPES.role, "r", { name: "r", assumeRolePolicy: lambdaTrust }),
      resource(TYPES.rolePolicy, "inline", { role: "r", policy: doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }) }),
      resource(TYPES.rolePolicyAttachment, "attached", { role: "r", policyArn: "arn:aws:iam::123456789012:policy/extra" }),
    ],
    messages: [/Role r has 1 inline policy and attached arn:aws:iam::123456789012:policy\/extra; keep its permissions in one place/],
    good: [
      resource(TYPES.role, "r", { name: "r", assumeRolePolicy: lambdaTrust }),
      resource(TYPES.rolePolicy, "inline", { role: "r", policy: doc({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }) }),
    ],
  },
  {
    rule: "lambda-explicit-memory-and-timeout",
    bad: [resource(TYPES.function, "f", { name: "f", tracingConfig: { mode: "Active" } })],
    messages: [/Function f does not set memorySize and timeout; set them explicitly/],
    good: [fn("f")],
  },
  {
    rule: "lambda-tracing-active",
    bad: [fn("f", { tracingConfig: { mode: "PassThrough" } }), fn("g", { tracingConfig: undefined })],
    messages: [/Function f has tracing mode PassThrough; set tracingConfig: \{ mode: "Active" \}/, /Function g has tracing mode unset/],
    good: [fn("f")],
  },
  {
    rule: "lambda-sdk-timeouts-within-function-timeout",
    bad: [fn("f", { timeout: 10, environment: { variables: { FUNCTION_TIMEOUT_SECONDS: "30" } } })],
    messages: [/Function f has FUNCTION_TIMEOUT_SECONDS "30" but a timeout of 10 s, so its SDK clients. timeouts and retries do not fit it; build it with SecureFunction \(which sets the variable from its timeout\), or set FUNCTION_TIMEOUT_SECONDS to "10"/],
    good: [fn("f", { timeout: 10, environment: { variables: { FUNCTION_TIMEOUT_SECONDS: "10" } } }), fn("g", { timeout: 10 })],
  },
  {
    rule: "lambda-log-group-with-retention",
    bad: [fn("f"), fn("g", { loggingConfig: { logGroup: "/shared/g" } }), resource(TYPES.logGroup, "g-logs", { name: "/shared/g" })],
    messages: [/Function f logs to \/aws\/lambda\/f, which this stack does not create/, /Log group \/shared\/g of function g keeps logs forever; set retentionInDays/],
    good: [fn("f"), resource(TYPES.logGroup, "f-logs", { name: "/aws/lambda/f", retentionInDays: 30 })],
  },
  {
    rule: "lambda-async-failure-destination",
    bad: [
      fn("f"), resource(TYPES.permission, "s3-invoke", { function: "f", principal: "s3.amazonaws.com", sourceArn: "arn:aws:s3:::uploads" }),
      // The Scheduler invokes asynchronously too, through its role rather than a permission.
      fn("nightly"), resource(TYPES.schedule, "nightly", { scheduleExpression: "rate(1 day)", target: { arn: `${ACCOUNT}:function:nightly`, roleArn: "arn:aws:iam::1:role/s" } }),
      // A config on $LATEST does not govern the alias the subscription invokes.
      fn("notify", { publish: true }),
      resource(TYPES.topicSubscription, "notify-orders", { topic: "arn:aws:sns:eu-west-1:1:orders", protocol: "lambda", endpoint: `${ACCOUNT}:function:notify:live` }),
      resource(TYPES.eventInvokeConfig, "notify-async", { functionName: "notify", destinationConfig: { onFailure: { destination: "arn:aws:sqs:eu-west-1:1:failed" } } }),
    ],
    messages: [
      /Function f is invoked asynchronously \(s3.amazonaws.com\) but failed events are dropped after the retries; add an aws.lambda.FunctionEventInvokeConfig/,
      /Function nightly is invoked asynchronously \(Scheduler schedule nightly\) but failed events are dropped/,
      /Function notify:live is invoked asynchronously \(SNS subscription notify-orders\), but its event invoke config notify-async is on qualifier "\$LATEST", which this source does not invoke, so failed events are dropped; set the config's qualifier to "live"/,
    ],
    good: [
      fn("f"), resource(TYPES.permission, "s3-invoke", { function: "f", principal: "s3.amazonaws.com", sourceArn: "arn:aws:s3:::uploads", sourceAccount: "1" }),
      resource(TYPES.eventInvokeConfig, "f-failures", { functionName: "f", destinationConfig: { onFailure: { destination: "arn:aws:sqs:eu-west-1:1:failed" } } }),
      fn("api-only"), resource(TYPES.permission, "api", { function: "api-only", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/*" }),
      fn("nightly", { deadLetterConfig: { targetArn: "arn:aws:sqs:eu-west-1:1:failed" } }),
      resource(TYPES.schedule, "nightly", { scheduleExpression: "rate(1 day)", target: { arn: `${ACCOUNT}:function:nightly`, roleArn: "arn:aws:iam::1:role/s" } }),
      fn("notify", { publish: true }),
      resource(TYPES.topicSubscription, "notify-orders", { topic: "arn:aws:sns:eu-west-1:1:orders", protocol: "lambda", endpoint: `${ACCOUNT}:function:notify:live` }),
      resource(TYPES.eventInvokeConfig, "notify-async", { functionName: "notify", qualifier: "live", destinationConfig: { onFailure: { destination: "arn:aws:sqs:eu-west-1:1:failed" } } }),
    ],
  },
  {
    rule: "lambda-stream-mapping-failure-handling",
    bad: [
      resource(TYPES.eventSourceMapping, "changes", { eventSourceArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000", functionName: "f", startingPosition: "LATEST" }),
      // In a preview the ARN of a new stream is unknown; the starting position still says it is one.
      resource(TYPES.eventSourceMapping, "clicks", { functionName: "f", startingPosition: "TRIM_HORIZON", bisectBatchOnFunctionError: true, functionResponseTypes: ["ReportBatchItemFailures"], maximumRetryAttempts: -1, maximumRecordAgeInSeconds: 3600, destinationConfig: { onFailure: { destinationArn: "arn:aws:sqs:eu-west-1:1:dlq" } } }),
    ],
    messages: [
      /Stream mapping changes \(dynamodb arn:aws:dynamodb:\S+\) does not bisect a failing batch, so one bad record fails every record with it; set bisectBatchOnFunctionError: true/,
      /Stream mapping changes .* does not let the function report the records that failed/,
      /Stream mapping changes .* retries a failing batch without end \(maximumRetryAttempts unset, Lambda's default is -1, infinite\)/,
      /Stream mapping changes .* retries records until they expire from the stream \(maximumRecordAgeInSeconds unset/,
      /Stream mapping changes .* has no on-failure destination, so records that exhaust their retries are lost/,
      /Stream mapping clicks \(stream unknown\) retries a failing batch without end \(maximumRetryAttempts -1/,
    ],
    good: [
      resource(TYPES.eventSourceMapping, "clicks", { eventSourceArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks", functionName: "f", startingPosition: "TRIM_HORIZON", bisectBatchOnFunctionError: true, functionResponseTypes: ["ReportBatchItemFailures"], maximumRetryAttempts: 3, maximumRecordAgeInSeconds: 86400, destinationConfig: { onFailure: { destinationArn: "arn:aws:sqs:eu-west-1:1:dlq" } } }),
      // Queues fail differently (redrive policy): not this rule's.
      resource(TYPES.eventSourceMapping, "jobs", { eventSourceArn: "arn:aws:sqs:eu-west-1:123456789012:jobs", functionName: "f", batchSize: 10 }),
    ],
  },
  {
    rule: "event-delivery-dead-letter-queue",
    bad: [
      resource(TYPES.eventTarget, "orders-target", { rule: "orders", arn: `${ACCOUNT}:function:f` }),
      resource(TYPES.schedule, "nightly", { name: "nightly", scheduleExpression: "rate(1 day)", target: { arn: `${ACCOUNT}:function:f`, roleArn: "arn:aws:iam::1:role/s", retryPolicy: { maximumRetryAttempts: 2 } } }),
    ],
    messages: [
      /EventBridge target orders-target of rule orders has no dead-letter queue, so an event it cannot deliver is dropped; set deadLetterConfig: \{ arn: <SQS queue ARN> \}/,
      /EventBridge target orders-target of rule orders has no explicit retry policy \(the default retries 185 times over 24 hours\); set retryPolicy/,
      /Schedule nightly has no dead-letter queue, so an event it cannot deliver is dropped; set target.deadLetterConfig/,
      /Schedule nightly has no explicit retry policy .*; set target.retryPolicy: \{ maximumRetryAttempts, maximumEventAgeInSeconds \}/,
    ],
    good: [
      resource(TYPES.eventTarget, "orders-target", { rule: "orders", arn: `${ACCOUNT}:function:f`, deadLetterConfig: { arn: "arn:aws:sqs:eu-west-1:1:dlq" }, retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 } }),
      resource(TYPES.schedule, "nightly", { name: "nightly", scheduleExpression: "rate(1 day)", target: { arn: `${ACCOUNT}:function:f`, roleArn: "arn:aws:iam::1:role/s", deadLetterConfig: { arn: "arn:aws:sqs:eu-west-1:1:dlq" }, retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 } } }),
    ],
  },
  {
    rule: "lambda-provisioned-concurrency-on-alias",
    bad: [
      fn("f", { reservedConcurrentExecutions: 2, publish: true }),
      resource(TYPES.alias, "f-live", { name: "live", functionName: "f" }),
      resource(TYPES.provisionedConcurrency, "f-warm", { functionName: "f", qualifier: "live", provisionedConcurrentExecutions: 5 }),
      fn("g", { publish: true }),
      resource(TYPES.provisionedConcurrency, "g-warm", { functionName: "g", qualifier: "1", provisionedConcurrentExecutions: 1 }),
    ],
    messages: [/Provisioned concurrency g-warm is on qualifier "1", not an alias of g; create an aws.lambda.Alias/, /Function f has 5 provisioned environments but reserved concurrency 2; provisioned must fit in reserved/],
    good: [
      fn("f", { reservedConcurrentExecutions: 5, publish: true }),
      resource(TYPES.alias, "f-live", { name: "live", functionName: "f" }),
      resource(TYPES.provisionedConcurrency, "f-warm", { functionName: "f", qualifier: "live", provisionedConcurrentExecutions: 5 }),
    ],
  },
  {
    rule: "lambda-alias-safe-deployment-in-prod",
    bad: [
      fn("f", { publish: true }),
      resource(TYPES.alias, "f-alias", { name: "live", functionName: "f" }),
      ...deployedFunction("g", { events: ["DEPLOYMENT_FAILURE"] }),
      ...deployedFunction("h", { alarms: [] }),
    ],
    messages: [
      /Function f's alias live in production stack prod has no CodeDeploy deployment group: each new version takes all its traffic at once and nothing rolls it back; set deployment on the function/,
      /Function g's alias live in production stack prod is deployed by group g, which does not roll back on alarm; set autoRollbackConfiguration/,
      /Function h's alias live in production stack prod is deployed by group h, which watches no alarm/,
    ],
    good: [
      ...deployedFunction("g", {}, { hooks: true }),
      // A function without an alias is invoked unqualified: nothing for CodeDeploy to shift.
      fn("plain"),
      // Dev stacks need none.
      resource(TYPES.function, "d", { name: "d", publish: true }, { stack: "dev", outputs: { arn: `${ACCOUNT}:function:d` } }),
      resource(TYPES.alias, "d-alias", { name: "live", functionName: "d" }, { stack: "dev" }),
    ],
  },
  {
    rule: "lambda-no-secrets-in-environment",
    bad: [fn("f", { environment: { variables: { UPSTREAM_KEY_ID: "AKIAIOSFODNN7EXAMPLE", DB_PASSWORD: "correct-horse-battery", TABLE_NAME: "orders" } } })],
    messages: [/Environment variable UPSTREAM_KEY_ID of function f holds an AWS access key id; store it as a SecureString parameter/, /DB_PASSWORD of function f holds a literal value under the secret-sounding name DB_PASSWORD/],
    good: [fn("f", { environment: { variables: { TABLE_NAME: "orders", TOKEN_TABLE: "serverless-orders-prod-tokens", API_KEY_PARAMETER: "/shop/prod/f/apiKey", CLIENT_SECRET: "/shop/prod/f/clientSecret" } } })],
  },
  {
    rule: "lambda-permission-scoped",
    bad: [
      resource(TYPES.permission, "anyone", { function: "f", principal: "*" }),
      resource(TYPES.permission, "any-api", { function: "f", principal: "apigateway.amazonaws.com" }),
      resource(TYPES.permission, "uploads", { function: "f", principal: "s3.amazonaws.com", sourceArn: "arn:aws:s3:::uploads" }),
    ],
    messages: [
      /Permission lets anyone \("\*"\) invoke f/, /Permission lets apigateway.amazonaws.com invoke f from any source, including other accounts' resources; set sourceArn/,
      /Permission lets S3 invoke f from bucket arn:aws:s3:::uploads, whose ARN names no account, so another account's bucket of that name could invoke it; set sourceAccount/,
    ],
    good: [
      resource(TYPES.permission, "api", { function: "f", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/*" }),
      resource(TYPES.permission, "uploads", { function: "f", principal: "s3.amazonaws.com", sourceArn: "arn:aws:s3:::uploads", sourceAccount: "123456789012" }),
      resource(TYPES.permission, "orders-topic", { function: "f", principal: "sns.amazonaws.com", sourceArn: "arn:aws:sns:eu-west-1:1:orders", qualifier: "live" }),
    ],
  },
  {
    rule: "lambda-event-source-invoke-permission",
    bad: [
      fn("f", { publish: true }),
      resource(TYPES.topicSubscription, "f-orders", { topic: "arn:aws:sns:eu-west-1:1:orders", protocol: "lambda", endpoint: `${ACCOUNT}:function:f:live` }),
      // Permitted on the function, not the alias the subscription invokes.
      resource(TYPES.permission, "f-orders-permission", { function: "f", principal: "sns.amazonaws.com", sourceArn: "arn:aws:sns:eu-west-1:1:orders" }),
      resource(TYPES.eventRule, "shipped", { name: "shipped" }, { outputs: { arn: "arn:aws:events:eu-west-1:1:rule/shipped" } }),
      resource(TYPES.eventTarget, "shipped-target", { rule: "shipped", arn: `${ACCOUNT}:function:f` }),
      resource(TYPES.role, "scheduler", { assumeRolePolicy: "{}" }, { outputs: { arn: "arn:aws:iam::1:role/scheduler" } }),
      resource(TYPES.rolePolicy, "scheduler-policy", { role: "scheduler", policy: doc({ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: `${ACCOUNT}:function:f` }) }),
      resource(TYPES.schedule, "nightly", { target: { arn: `${ACCOUNT}:function:f:live`, roleArn: "arn:aws:iam::1:role/scheduler" } }),
    ],
    messages: [
      /SNS subscription f-orders invokes f:live but no permission lets sns.amazonaws.com invoke it with qualifier live from arn:aws:sns:eu-west-1:1:orders, so every delivery fails/,
      /EventBridge target shipped-target invokes f but no permission lets events.amazonaws.com invoke it from arn:aws:events:eu-west-1:1:rule\/shipped/,
      /Scheduler schedule nightly invokes f:live but its role scheduler may not invoke arn:\S+:function:f:live, so every run fails; allow lambda:InvokeFunction on exactly that ARN \(an alias ARN is not covered by the function's\)/,
    ],
    good: [
      fn("f", { publish: true }),
      resource(TYPES.topicSubscription, "f-orders", { topic: "arn:aws:sns:eu-west-1:1:orders", protocol: "lambda", endpoint: `${ACCOUNT}:function:f:live` }),
      resource(TYPES.permission, "f-orders-permission", { function: "f", qualifier: "live", principal: "sns.amazonaws.com", sourceArn: "arn:aws:sns:eu-west-1:1:orders" }),
      resource(TYPES.eventRule, "shipped", { name: "shipped" }, { outputs: { arn: "arn:aws:events:eu-west-1:1:rule/shipped" } }),
      resource(TYPES.eventTarget, "shipped-target", { rule: "shipped", arn: `${ACCOUNT}:function:f` }),
      resource(TYPES.permission, "shipped-permission", { function: `${ACCOUNT}:function:f`, principal: "events.amazonaws.com", sourceArn: "arn:aws:events:eu-west-1:1:rule/shipped" }),
      resource(TYPES.role, "scheduler", { assumeRolePolicy: "{}" }, { outputs: { arn: "arn:aws:iam::1:role/scheduler" } }),
      resource(TYPES.rolePolicy, "scheduler-policy", { role: "scheduler", policy: doc({ Effect: "Allow", Action: "lambda:InvokeFunction", Resource: `${ACCOUNT}:function:f:*` }) }),
      resource(TYPES.schedule, "nightly", { target: { arn: `${ACCOUNT}:function:f:live`, roleArn: "arn:aws:iam::1:role/scheduler" } }),
    ],
  },
  {
    rule: "lambda-event-source-alarms",
    bad: [
      fn("consumer"), fn("notifier"),
      resource(TYPES.eventSourceMapping, "changes", { eventSourceArn: "arn:aws:kinesis:eu-west-1:1:stream/clicks", functionName: "consumer", startingPosition: "LATEST" }),
      resource(TYPES.topicSubscription, "orders", { topic: "arn:aws:sns:eu-west-1:1:orders", protocol: "lambda", endpoint: `${ACCOUNT}:function:notifier` }),
    ],
    messages: [
      /Function consumer has no alarm on IteratorAge, so nobody hears of records waiting behind a failing batch; add aws.cloudwatch.MetricAlarm on AWS\/Lambda IteratorAge/,
      /Function notifier has no alarm on AsyncEventsDropped, so nobody hears of events dropped after their retries; add aws.cloudwatch.MetricAlarm on AWS\/Lambda AsyncEventsDropped with dimensions \{ FunctionName: notifier \}/,
    ],
    good: [
      fn("consumer"), fn("notifier"), fn("queue-consumer"),
      resource(TYPES.eventSourceMapping, "changes", { eventSourceArn: "arn:aws:kinesis:eu-west-1:1:stream/clicks", functionName: "consumer", startingPosition: "LATEST" }),
      resource(TYPES.eventSourceMapping, "jobs", { eventSourceArn: "arn:aws:sqs:eu-west-1:1:jobs", functionName: "queue-consumer" }),
      resource(TYPES.topicSubscription, "orders", { topic: "arn:aws:sns:eu-west-1:1:orders", protocol: "lambda", endpoint: `${ACCOUNT}:function:notifier` }),
      resource(TYPES.alarm, "consumer-age", { namespace: "AWS/Lambda", metricName: "IteratorAge", dimensions: { FunctionName: "consumer" } }),
      resource(TYPES.alarm, "notifier-dropped", { namespace: "AWS/Lambda", metricName: "AsyncEventsDropped", dimensions: { FunctionName: "notifier" } }),
    ],
  },
  {
    rule: "apigateway-integration-permission",
    bad: [
      fn("f", { publish: true }),
      resource(TYPES.api, "api", { protocolType: "HTTP" }, { id: "abc", outputs: { id: "abc", executionArn: "arn:aws:execute-api:eu-west-1:1:abc" } }),
      resource(TYPES.integration, "f-integration", { apiId: "abc", integrationType: "AWS_PROXY", integrationUri: `${ACCOUNT}:function:f:live` }),
      resource(TYPES.permission, "f-invoke", { function: "f", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/*" }),
    ],
    messages: [/Integration f-integration invokes f:live but no permission lets this API call it with that qualifier, so requests fail with 500/],
    good: [
      fn("f", { publish: true }),
      resource(TYPES.api, "api", { protocolType: "HTTP" }, { id: "abc", outputs: { id: "abc", executionArn: "arn:aws:execute-api:eu-west-1:1:abc" } }),
      resource(TYPES.integration, "f-integration", { apiId: "abc", integrationType: "AWS_PROXY", integrationUri: `${ACCOUNT}:function:f:live` }),
      resource(TYPES.permission, "f-invoke", { function: "f", qualifier: "live", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/*" }),
    ],
  },
  {
    rule: "apigateway-permission-per-route",
    bad: [
      ...apiRoutingToTwoFunctions(),
      resource(TYPES.permission, "f-invoke", { function: "f", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/*" }),
      // Names a route, but one that targets another function.
      resource(TYPES.permission, "g-invoke", { function: "g", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/POST/orders" }),
    ],
    messages: [
      /Route POST \/orders invokes f but no permission names it; .*sourceArn `\$\{api.executionArn\}\/\*\/POST\/orders`/,
      /Route GET \/orders\/\{orderId\} invokes g but no permission names it; .*\/\*\/GET\/orders\/\*`/,
      /Permission f-invoke lets API Gateway invoke f from arn:aws:execute-api:eu-west-1:1:abc\/\*\/\*, which names none of the routes that target it/,
      /Permission g-invoke lets API Gateway invoke g from .*\/POST\/orders, which names none of the routes/,
    ],
    good: [
      ...apiRoutingToTwoFunctions(),
      resource(TYPES.route, "any-admin", { apiId: "abc", routeKey: "ANY /admin/{proxy+}", target: "integrations/ig" }),
      resource(TYPES.route, "default", { apiId: "abc", routeKey: "$default", target: "integrations/if" }),
      resource(TYPES.permission, "f-post", { function: "f", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/POST/orders" }),
      resource(TYPES.permission, "f-default", { function: "f", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/$default" }),
      resource(TYPES.permission, "g-get", { function: "g", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/GET/orders/*" }),
      resource(TYPES.permission, "g-admin", { function: "g", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/*/*/admin/*" }),
      // An authorizer's permission names no route: apigateway-lambda-authorizer-permission checks it.
      resource(TYPES.permission, "g-authorizer", { function: "g", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/authorizers/au1" }),
    ],
  },
  {
    rule: "apigateway-lambda-authorizer-permission",
    bad: [
      fn("authz"), fn("authz2"),
      resource(TYPES.api, "api", { protocolType: "HTTP" }, { id: "abc", outputs: { id: "abc", executionArn: "arn:aws:execute-api:eu-west-1:1:abc" } }),
      resource(TYPES.authorizer, "lambda", { apiId: "abc", authorizerType: "REQUEST", authorizerUri: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${ACCOUNT}:function:authz/invocations` }, { id: "au1" }),
      resource(TYPES.authorizer, "other", { apiId: "abc", authorizerType: "REQUEST", authorizerUri: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${ACCOUNT}:function:authz2:live/invocations` }, { id: "au2" }),
      // Unscoped, and one from another API's authorizers.
      resource(TYPES.permission, "authz-any", { function: "authz", principal: "apigateway.amazonaws.com" }),
      resource(TYPES.permission, "authz2-elsewhere", { function: "authz2", qualifier: "live", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:xyz/authorizers/au9" }),
    ],
    messages: [
      /Authorizer lambda invokes authz but no permission lets this API's authorizers call it, so every request it guards fails with 500; .*sourceArn `\$\{api.executionArn\}\/authorizers\/\$\{authorizer.id\}`/,
      /Permission authz-any lets API Gateway invoke the authorizer function authz from any API \(no sourceArn\), beyond this API's authorizers/,
      /Authorizer other invokes authz2:live but no permission lets this API's authorizers call it with that qualifier/,
      /Permission authz2-elsewhere lets API Gateway invoke the authorizer function authz2 from arn:aws:execute-api:eu-west-1:1:xyz\/authorizers\/au9/,
    ],
    good: [
      fn("authz"), fn("authz2"),
      resource(TYPES.api, "api", { protocolType: "HTTP" }, { id: "abc", outputs: { id: "abc", executionArn: "arn:aws:execute-api:eu-west-1:1:abc" } }),
      resource(TYPES.authorizer, "lambda", { apiId: "abc", authorizerType: "REQUEST", authorizerUri: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${ACCOUNT}:function:authz/invocations` }, { id: "au1" }),
      resource(TYPES.authorizer, "other", { apiId: "abc", authorizerType: "REQUEST", authorizerUri: `arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${ACCOUNT}:function:authz2:live/invocations` }, { id: "au2" }),
      resource(TYPES.authorizer, "jwt", { apiId: "abc", authorizerType: "JWT", jwtConfiguration: { issuer: "https://i" } }, { id: "au3" }),
      resource(TYPES.permission, "authz-own", { function: "authz", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/authorizers/au1" }),
      resource(TYPES.permission, "authz2-api", { function: "authz2", qualifier: "live", principal: "apigateway.amazonaws.com", sourceArn: "arn:aws:execute-api:eu-west-1:1:abc/authorizers/*" }),
    ],
  },
  {
    rule: "apigateway-domain-tls-1-2",
    bad: [
      resource(TYPES.domainName, "http-old", { domainName: "a.example.com", domainNameConfiguration: { endpointType: "REGIONAL", securityPolicy: "TLS_1_0", certificateArn: "c" } }),
      resource(TYPES.restDomainName, "rest-default", { domainName: "b.example.com", regionalCertificateArn: "c" }),
    ],
    messages: [
      /Domain name a\.example\.com has security policy "TLS_1_0", which lets clients connect with TLS below 1\.2; set securityPolicy "TLS_1_2"\./,
      /Domain name b\.example\.com has security policy unset \(TLS_1_0 for a REST API's domain\)/,
    ],
    good: [
      resource(TYPES.domainName, "http", { domainName: "a.example.com", domainNameConfiguration: { endpointType: "REGIONAL", securityPolicy: "TLS_1_2", certificateArn: "c" } }),
      resource(TYPES.restDomainName, "rest", { domainName: "b.example.com", regionalCertificateArn: "c", securityPolicy: "TLS_1_2" }),
      resource(TYPES.restDomainName, "rest-13", { domainName: "c.example.com", regionalCertificateArn: "c", securityPolicy: "SecurityPolicy_TLS13_1_3_2025_09" }),
    ],
  },
  {
    rule: "apigateway-stage-access-logs",
    bad: [
      resource(TYPES.stage, "silent", { name: "$default", apiId: "abc" }),
      resource(TYPES.stage, "clf", { name: "v1", apiId: "abc", accessLogSettings: { destinationArn: "arn:aws:logs:eu-west-1:1:log-group:a", format: "$context.requestId $context.status" } }),
    ],
    messages: [/Stage \$default has no access logs; set accessLogSettings/, /Stage v1 logs access in a format that is not JSON/],
    good: [resource(TYPES.stage, "s", { name: "$default", apiId: "abc", accessLogSettings: { destinationArn: "arn:aws:logs:eu-west-1:1:log-group:a", format: JSON.stringify({ requestId: "$context.requestId" }) } })],
  },
  {
    rule: "apigateway-stage-throttling",
    bad: [resource(TYPES.stage, "s", { name: "$default", apiId: "abc", defaultRouteSettings: { throttlingRateLimit: 100 } })],
    messages: [/Stage \$default has no default throttlingBurstLimit; set defaultRouteSettings.throttlingBurstLimit/],
    good: [resource(TYPES.stage, "s", { name: "$default", apiId: "abc", defaultRouteSettings: { throttlingRateLimit: 100, throttlingBurstLimit: 200 } })],
  },
  {
    rule: "apigateway-rest-stage-throttling",
    bad: [
      resource(TYPES.restStage, "v1", { restApi: "abc", stageName: "v1" }),
      resource(TYPES.restMethodSettings, "other-stage", { restApi: "abc", stageName: "v2", methodPath: "*/*", settings: { throttlingRateLimit: 50, throttlingBurstLimit: 100 } }),
      resource(TYPES.restStage, "v3", { restApi: "abc", stageName: "v3" }),
      resource(TYPES.restMethodSettings, "no-burst", { restApi: "abc", stageName: "v3", methodPath: "*/*", settings: { throttlingRateLimit: 50 } }),
    ],
    messages: [/REST stage v1 has no throttling of all its methods; add method settings "\*\/\*"/, /REST stage v3 has no throttling/],
    good: [
      resource(TYPES.restStage, "v1", { restApi: "abc", stageName: "v1" }),
      resource(TYPES.restMethodSettings, "all", { restApi: "abc", stageName: "v1", methodPath: "*/*", settings: { metricsEnabled: true, throttlingRateLimit: 50, throttlingBurstLimit: 100 } }),
    ],
  },
  {
    rule: "apigateway-rest-stage-tracing",
    bad: [resource(TYPES.restStage, "v1", { restApi: "abc", stageName: "v1" })],
    messages: [/REST stage v1 does not trace with X-Ray; set xrayTracingEnabled: true/],
    good: [resource(TYPES.restStage, "v1", { restApi: "abc", stageName: "v1", xrayTracingEnabled: true })],
  },
  {
    rule: "apigateway-rest-waf-in-prod",
    bad: [
      resource(TYPES.restStage, "v1", { restApi: "abc", stageName: "v1" }, { outputs: { arn: "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/v1" } }),
      resource(TYPES.webAclAssociation, "elsewhere", { resourceArn: "arn:aws:apigateway:eu-west-1::/restapis/xyz/stages/v1", webAclArn: "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/1" }),
    ],
    messages: [/REST stage v1 in production stack prod has no WAF web ACL; associate one \(RestApi: waf/],
    good: [
      resource(TYPES.restStage, "v1", { restApi: "abc", stageName: "v1" }, { outputs: { arn: "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/v1" } }),
      resource(TYPES.webAclAssociation, "waf", { resourceArn: "arn:aws:apigateway:eu-west-1::/restapis/abc/stages/v1", webAclArn: "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/1" }),
      // Dev stacks need none.
      resource(TYPES.restStage, "dev-v1", { restApi: "def", stageName: "v1" }, { stack: "dev", outputs: { arn: "arn:aws:apigateway:eu-west-1::/restapis/def/stages/v1" } }),
    ],
  },
  {
    rule: "apigateway-no-api-key-only-writes",
    bad: [
      resource(TYPES.restMethod, "post", { restApi: "abc", resourceId: "r1", httpMethod: "POST", authorization: "NONE", apiKeyRequired: true }),
      resource(TYPES.restMethod, "any", { restApi: "abc", resourceId: "r2", httpMethod: "ANY", authorization: "NONE", apiKeyRequired: true }),
    ],
    messages: [/POST method on resource r1 writes with an API key as its only credential/, /ANY method on resource r2 writes/],
    good: [
      resource(TYPES.restMethod, "get", { restApi: "abc", resourceId: "r1", httpMethod: "GET", authorization: "NONE", apiKeyRequired: true }),
      resource(TYPES.restMethod, "post", { restApi: "abc", resourceId: "r1", httpMethod: "POST", authorization: "COGNITO_USER_POOLS", apiKeyRequired: true }),
    ],
  },
  {
    rule: "apigateway-route-authorization",
    bad: [resource(TYPES.route, "admin", { apiId: "abc", routeKey: "GET /admin", authorizationType: "NONE" }), resource(TYPES.route, "unset", { apiId: "abc", routeKey: "POST /x" })],
    messages: [/Route "GET \/admin" has no authorization; set authorizationType "JWT" \(with an authorizer\) or "AWS_IAM", or, if it is public on purpose, add "GET \/admin" to publicRoutes/, /Route "POST \/x" has no authorization/],
    good: [resource(TYPES.route, "health", { apiId: "abc", routeKey: "GET /health", authorizationType: "NONE" }), resource(TYPES.route, "orders", { apiId: "abc", routeKey: "GET /orders", authorizationType: "JWT" })],
    config: { "apigateway-route-authorization": { publicRoutes: ["GET /health"] } },
  },
  {
    rule: "apigateway-integration-timeout",
    bad: [resource(TYPES.integration, "slow", { apiId: "abc", integrationType: "AWS_PROXY", timeoutMilliseconds: 60000 })],
    messages: [/Integration timeout 60000 ms is outside the HTTP API's 50-30000 ms/],
    good: [resource(TYPES.integration, "ok", { apiId: "abc", integrationType: "AWS_PROXY", timeoutMilliseconds: 30000 })],
  },
  {
    rule: "apigateway-function-timeout-within-integration",
    bad: [fn("slow", { timeout: 60 }), resource(TYPES.integration, "slow-integration", { apiId: "abc", integrationType: "AWS_PROXY", integrationUri: `${ACCOUNT}:function:slow` })],
    messages: [/Function slow may run 60 s but its integration slow-integration gives up after 30 s/],
    good: [fn("quick", { timeout: 29 }), resource(TYPES.integration, "quick-integration", { apiId: "abc", integrationType: "AWS_PROXY", integrationUri: `${ACCOUNT}:function:quick` })],
  },
  {
    rule: "sqs-encrypted",
    bad: [queue("plain", { sqsManagedSseEnabled: false })],
    messages: [/Queue plain is not encrypted at rest; set sqsManagedSseEnabled: true/],
    good: [queue("sse"), queue("kms", { sqsManagedSseEnabled: undefined, kmsMasterKeyId: "alias/aws/sqs" })],
  },
  {
    rule: "sqs-tls-only",
    bad: [queue("q"), resource(TYPES.queuePolicy, "q-allow", { queueUrl: "https://sqs/q", policy: doc({ Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*" }) })],
    messages: [/Queue q accepts requests without TLS; add an aws.sqs.QueuePolicy that denies "sqs:\*"/],
    good: [queue("q"), resource(TYPES.queuePolicy, "q-tls", { queueUrl: "https://sqs/q", policy: doc({ Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }) })],
  },
  {
    rule: "sqs-redrive-policy",
    bad: [queue("orphan")],
    messages: [/Queue orphan has no redrive policy, so a message that always fails is retried until it expires/],
    good: [
      queue("dlq"), queue("source", { redrivePolicy: JSON.stringify({ deadLetterTargetArn: "arn:aws:sqs:eu-west-1:123456789012:dlq", maxReceiveCount: 5 }) }),
      // Queues that take what failed elsewhere are dead-letter queues too.
      queue("stream-dlq"), resource(TYPES.eventSourceMapping, "changes", { destinationConfig: { onFailure: { destinationArn: "arn:aws:sqs:eu-west-1:123456789012:stream-dlq" } } }),
      queue("async-dlq"), resource(TYPES.eventInvokeConfig, "f-async", { functionName: "f", destinationConfig: { onFailure: { destination: "arn:aws:sqs:eu-west-1:123456789012:async-dlq" } } }),
      queue("target-dlq"), resource(TYPES.eventTarget, "t", { rule: "r", arn: "x", deadLetterConfig: { arn: "arn:aws:sqs:eu-west-1:123456789012:target-dlq" } }),
      queue("schedule-dlq"), resource(TYPES.schedule, "s", { target: { arn: "x", deadLetterConfig: { arn: "arn:aws:sqs:eu-west-1:123456789012:schedule-dlq" } } }),
    ],
  },
  {
    rule: "sqs-visibility-timeout",
    bad: [fn("worker", { timeout: 30 }), queue("jobs", { visibilityTimeoutSeconds: 60 }), resource(TYPES.eventSourceMapping, "m", { eventSourceArn: "arn:aws:sqs:eu-west-1:123456789012:jobs", functionName: `${ACCOUNT}:function:worker:live`, maximumBatchingWindowInSeconds: 5 })],
    messages: [/Queue jobs hides a received message for 60 s, but its consumer worker may run 30 s; .* Set visibilityTimeoutSeconds to at least 185 \(6 x 30 s \+ batch window\)/],
    good: [fn("worker", { timeout: 30 }), queue("jobs", { visibilityTimeoutSeconds: 185 }), resource(TYPES.eventSourceMapping, "m", { eventSourceArn: "arn:aws:sqs:eu-west-1:123456789012:jobs", functionName: "worker", maximumBatchingWindowInSeconds: 5 })],
  },
  {
    rule: "ssm-secrets-as-securestring",
    bad: [resource(TYPES.parameter, "pw", { name: "/shop/prod/f/dbPassword", type: "String", value: "correct-horse-battery" }), resource(TYPES.parameter, "key", { name: "/shop/prod/f/signing", type: "String", value: "-----BEGIN RSA PRIVATE KEY-----\nabc" })],
    messages: [/Parameter \/shop\/prod\/f\/dbPassword holds a literal value under the secret-sounding name dbPassword as String; make it type "SecureString"/, /Parameter \/shop\/prod\/f\/signing holds a private key as String/],
    good: [resource(TYPES.parameter, "pw", { name: "/shop/prod/f/dbPassword", type: "SecureString", value: "correct-horse-battery" }), resource(TYPES.parameter, "n", { name: "/shop/prod/f/maxItems", type: "String", value: "25" })],
  },
  {
    rule: "dynamodb-point-in-time-recovery",
    bad: [resource(TYPES.table, "t", { name: "t", pointInTimeRecovery: { enabled: false } })],
    messages: [/Table t has no point-in-time recovery; set pointInTimeRecovery: \{ enabled: true \}/],
    good: [resource(TYPES.table, "t", { name: "t", pointInTimeRecovery: { enabled: true } })],
  },
  {
    rule: "dynamodb-deletion-protection-in-prod",
    bad: [resource(TYPES.table, "t", { name: "t", deletionProtectionEnabled: false })],
    messages: [/Table t in production stack prod can be deleted; set deletionProtectionEnabled: true/],
    good: [resource(TYPES.table, "t", { name: "t", deletionProtectionEnabled: true }), resource(TYPES.table, "scratch", { name: "scratch" }, { stack: "dev" })],
  },
  {
    rule: "kms-customer-managed-in-prod",
    bad: [
      queue("sse"),
      queue("managed", { sqsManagedSseEnabled: undefined, kmsMasterKeyId: "alias/aws/sqs" }),
      resource(TYPES.parameter, "token", { name: "/shop/prod/api/token", type: "SecureString" }),
      resource(TYPES.logGroup, "logs", { name: "/aws/lambda/api", retentionInDays: 30 }),
      resource(TYPES.table, "t", { name: "t", serverSideEncryption: { enabled: true } }),
    ],
    messages: [
      /^Queue sse in production stack prod is encrypted with an AWS owned or managed key; set kmsMasterKeyId to a customer-managed key's ARN/,
      /^Queue managed in production stack prod is encrypted with the AWS managed key alias\/aws\/sqs; set kmsMasterKeyId/,
      /^SecureString parameter \/shop\/prod\/api\/token in production stack prod is encrypted with an AWS owned or managed key; set keyId/,
      /^Log group \/aws\/lambda\/api in production stack prod .*; set kmsKeyId/,
      /^Table t in production stack prod .*; set serverSideEncryption\.kmsKeyArn/,
    ],
    good: [
      queue("cmk", { sqsManagedSseEnabled: undefined, kmsMasterKeyId: KMS_KEY }),
      resource(TYPES.parameter, "token", { name: "/shop/prod/api/token", type: "SecureString", keyId: KMS_KEY }),
      resource(TYPES.parameter, "limit", { name: "/shop/prod/api/limit", type: "String" }),
      resource(TYPES.logGroup, "logs", { name: "/aws/lambda/api", retentionInDays: 30, kmsKeyId: KMS_KEY }),
      resource(TYPES.table, "t", { name: "t", serverSideEncryption: { enabled: true, kmsKeyArn: KMS_KEY } }),
      queue("dev-sse", {}),
    ].map((r) => (r.name === "dev-sse" ? resource(r.type, r.name, r.inputs, { stack: "dev" }) : r)),
  },
  {
    rule: "cloudwatch-alarm-actions-in-prod",
    bad: [resource(TYPES.alarm, "a", { name: "errors", alarmActions: [] })],
    messages: [/Alarm errors in production stack prod has no actions, so nobody hears it/],
    good: [resource(TYPES.alarm, "a", { name: "errors", alarmActions: ["arn:aws:sns:eu-west-1:1:alarms"] }), resource(TYPES.alarm, "dev-a", { name: "dev-errors" }, { stack: "dev" })],
  },
  {
    rule: "tags-required-in-prod",
    config: { "tags-required-in-prod": { requiredKeys: ["cost-center"] } },
    bad: [
      queue("untagged"),
      queue("partly", { tags: { project: "shop", stack: "prod", component: "", "cost-center": "orders" } }),
      resource(TYPES.table, "orders", { tags: { project: "shop", stack: "prod", component: "dynamodb.Table/orders" } }),
    ],
    messages: [
      /^Queue untagged in production stack prod has no project, stack, component, cost-center tags, so its cost cannot be allocated; create it inside a component or tag it/,
      /^Queue partly in production stack prod has no component tag,/,
      /^Table orders in production stack prod has no cost-center tag,/,
    ],
    good: [
      queue("tagged", { tags: { project: "shop", stack: "prod", component: "QueueWorker/jobs", "cost-center": "orders" } }),
      // The provider's default tags, where it computed tagsAll, count.
      resource(TYPES.table, "orders", { tags: { project: "shop", stack: "prod", component: "dynamodb.Table/orders" }, tagsAll: { "cost-center": "orders" } }),
      resource(TYPES.rolePolicy, "untaggable", { role: "r", policy: doc({ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::b/*" }) }),
      resource(TYPES.queue, "dev-queue", { name: "dev-queue", sqsManagedSseEnabled: true }, { stack: "dev" }),
    ],
  },
  {
    rule: "cognito-mfa-in-prod",
    bad: [
      resource(TYPES.userPool, "customers", { name: "customers" }),
      resource(TYPES.userPool, "staff", { name: "staff", mfaConfiguration: "OPTIONAL" }),
    ],
    messages: [
      /User pool customers in production stack prod has MFA OFF without an authenticator app \(TOTP\), so a stolen password is enough to sign in; set mfaConfiguration: "ON"/,
      /User pool staff in production stack prod has MFA OPTIONAL without an authenticator app/,
    ],
    good: [
      resource(TYPES.userPool, "customers", { name: "customers", mfaConfiguration: "ON", softwareTokenMfaConfiguration: { enabled: true } }),
      resource(TYPES.userPool, "staff", { name: "staff", mfaConfiguration: "OPTIONAL", softwareTokenMfaConfiguration: { enabled: true } }),
      resource(TYPES.userPool, "testers", { name: "testers" }, { stack: "dev" }),
    ],
  },
  {
    rule: "cognito-threat-protection-in-prod",
    bad: [
      resource(TYPES.userPool, "customers", { name: "customers", userPoolTier: "ESSENTIALS", userPoolAddOns: { advancedSecurityMode: "OFF" } }),
      resource(TYPES.userPool, "staff", { name: "staff", userPoolTier: "PLUS", userPoolAddOns: { advancedSecurityMode: "AUDIT" } }),
    ],
    messages: [
      /User pool customers in production stack prod has threat protection OFF on tier ESSENTIALS, so sign-ins with leaked or risky credentials go through; set userPoolTier: "PLUS"/,
      /User pool staff in production stack prod has threat protection AUDIT on tier PLUS/,
    ],
    good: [
      resource(TYPES.userPool, "customers", { name: "customers", userPoolTier: "PLUS", userPoolAddOns: { advancedSecurityMode: "ENFORCED" } }),
      resource(TYPES.userPool, "testers", { name: "testers", userPoolTier: "ESSENTIALS" }, { stack: "dev" }),
    ],
  },
  {
    rule: "apigateway-jwt-route-scopes",
    bad: [resource(TYPES.route, "r", { routeKey: "GET /orders", authorizationType: "JWT", authorizerId: "a" })],
    messages: [/Route "GET \/orders" accepts any JWT of its audience, ID tokens included; set authorizationScopes/],
    good: [
      resource(TYPES.route, "r", { routeKey: "GET /orders", authorizationType: "JWT", authorizerId: "a", authorizationScopes: ["orders/read"] }),
      resource(TYPES.route, "h", { routeKey: "GET /health", authorizationType: "NONE" }),
    ],
  },
  {
    rule: "sns-tls-only",
    bad: [
      resource(TYPES.topic, "alarms", { name: "alarms" }, { outputs: { arn: "arn:aws:sns:eu-west-1:1:alarms" } }),
      resource(TYPES.topic, "orders", { name: "orders" }, { outputs: { arn: "arn:aws:sns:eu-west-1:1:orders" } }),
      // A deny without the TLS condition, and a TLS deny on another topic, protect neither.
      resource(TYPES.topicPolicy, "orders-policy", { arn: "arn:aws:sns:eu-west-1:1:orders", policy: doc({ Effect: "Deny", Principal: "*", Action: "sns:Publish", Resource: "*" }) }),
      resource(TYPES.topicPolicy, "other-policy", { arn: "arn:aws:sns:eu-west-1:1:other", policy: doc({ Effect: "Deny", Principal: "*", Action: "sns:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }) }),
    ],
    messages: [/Topic alarms accepts messages without TLS; add an aws.sns.TopicPolicy that denies "sns:Publish"/, /Topic orders accepts messages without TLS/],
    good: [
      resource(TYPES.topic, "alarms", { name: "alarms" }, { outputs: { arn: "arn:aws:sns:eu-west-1:1:alarms" } }),
      resource(TYPES.topicPolicy, "alarms-policy", { arn: "arn:aws:sns:eu-west-1:1:alarms", policy: doc({ Effect: "Deny", Principal: "*", Action: "sns:Publish", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }) }),
      resource(TYPES.topic, "orders", { name: "orders", policy: doc({ Effect: "Deny", Principal: "*", Action: "*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": false } } }) }),
    ],
  },
  {
    rule: "vpc-endpoint-policy",
    bad: [
      resource(TYPES.vpcEndpoint, "sqs", { serviceName: "com.amazonaws.eu-west-1.sqs" }),
      resource(TYPES.vpcEndpoint, "dynamodb", { serviceName: "com.amazonaws.eu-west-1.dynamodb", policy: doc({ Effect: "Allow", Principal: "*", Action: "dynamodb:*", Resource: "*" }) }),
    ],
    messages: [/VPC endpoint sqs \(com.amazonaws.eu-west-1.sqs\) has no policy, so it lets any principal do anything/, /VPC endpoint dynamodb \(com.amazonaws.eu-west-1.dynamodb\) allows \["dynamodb:\*"\], every action of the service/],
    good: [
      resource(TYPES.vpcEndpoint, "sqs", { serviceName: "com.amazonaws.eu-west-1.sqs", policy: doc({ Effect: "Allow", Principal: "*", Action: ["sqs:SendMessage"], Resource: "arn:aws:sqs:eu-west-1:1:shop-prod-*" }) }),
      resource(TYPES.vpcEndpoint, "xray", { serviceName: "com.amazonaws.eu-west-1.xray", policy: doc({ Effect: "Allow", Principal: "*", Action: ["xray:PutTraceSegments"], Resource: "*" }) }),
    ],
  },
  {
    rule: "vpc-flow-logs-in-prod",
    bad: [
      resource(TYPES.vpc, "network", {}, { id: "", outputs: { vpcId: "vpc-1" } }),
      resource(TYPES.ec2Vpc, "network-vpc", { cidrBlock: "10.0.0.0/16" }, { id: "vpc-1" }),
      resource(TYPES.ec2Vpc, "other", { cidrBlock: "10.1.0.0/16" }, { id: "vpc-2" }),
      resource(TYPES.flowLog, "logs-elsewhere", { vpcId: "vpc-3", trafficType: "ALL" }),
    ],
    messages: [/VPC network-vpc \(vpc-1\) in production stack prod has no flow log, so its connections, accepted and rejected, leave no trace; add an aws.ec2.FlowLog with vpcId vpc-1/, /VPC other \(vpc-2\) in production stack prod has no flow log/],
    good: [
      resource(TYPES.vpc, "network", {}, { id: "", outputs: { vpcId: "vpc-1" } }),
      resource(TYPES.ec2Vpc, "network-vpc", { cidrBlock: "10.0.0.0/16" }, { id: "vpc-1" }),
      resource(TYPES.flowLog, "network-flow-log", { vpcId: "vpc-1", trafficType: "ALL" }),
      resource(TYPES.ec2Vpc, "sandbox", { cidrBlock: "10.1.0.0/16" }, { id: "vpc-2", stack: "dev" }),
    ],
  },
  {
    rule: "lambda-security-group-egress",
    bad: [
      fn("f", { vpcConfig: { subnetIds: ["subnet-1"], securityGroupIds: ["sg-functions"] } }),
      resource(TYPES.securityGroup, "functions", { egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }, { protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }] }, { id: "sg-functions" }),
    ],
    messages: [/Security group functions of the functions allows egress to every address \(tcp 443-443, -1 0-0\); allow port 443 to the VPC endpoints/],
    good: [
      fn("f", { vpcConfig: { subnetIds: ["subnet-1"], securityGroupIds: ["sg-functions"] } }),
      resource(TYPES.securityGroup, "functions", { egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.20.0.0/16"] }, { protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: ["pl-1"] }] }, { id: "sg-functions" }),
      // Not a function's group: a bastion may reach out.
      resource(TYPES.securityGroup, "bastion", { egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] }, { id: "sg-bastion" }),
    ],
  },
  {
    rule: "cloudwatch-log-retention",
    bad: [resource(TYPES.logGroup, "forever", { name: "/aws/apigateway/api" })],
    messages: [/Log group \/aws\/apigateway\/api keeps logs forever \(and bills them\); set retentionInDays/],
    good: [resource(TYPES.logGroup, "kept", { name: "/aws/apigateway/api", retentionInDays: 14 })],
  },
  {
    rule: "lambda-alarms",
    bad: [fn("f"), resource(TYPES.alarm, "f-errors", { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: "f" } })],
    messages: [/Function f has no alarm on Throttles, Duration; add aws.cloudwatch.MetricAlarm on AWS\/Lambda Throttles, Duration with dimensions \{ FunctionName: f \}/],
    good: [fn("f"), ...["Errors", "Throttles", "Duration"].map((metricName) => resource(TYPES.alarm, `f-${metricName}`, { namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: "f" } }))],
  },
];

describe("policy pack rules: each fires on a bad resource, with a message that says how to fix it", () => {
  it("has a case for every rule, each with an enforcement level, a description and remediation steps", () => {
    expect(cases.map((c) => c.rule)).to.have.members(policies.map((p) => p.name));
    for (const policy of policies) {
      expect(policy.enforcementLevel, policy.name).to.be.oneOf(["mandatory", "advisory"]);
      expect(policy.description, policy.name).to.have.length.above(20);
      expect(policy.remediationSteps, policy.name).to.have.length.above(20);
    }
    expect(new Set(policies.map((p) => p.name)).size).to.equal(policies.length);
  });

  for (const c of cases) {
    it(c.rule, async () => {
      const bad = await violationsOf(c.rule, c.bad, c.config);
      expect(bad.map((v) => v.message), "violations of the bad resources").to.have.length(c.messages.length);
      c.messages.forEach((message, index) => expect(bad.map((v) => v.message).some((m) => message.test(m)), `${message} among\n${bad.map((v) => v.message).join("\n")}`).to.equal(true, String(index)));
      for (const violation of bad) expect(violation.urn, violation.message).to.match(/^urn:pulumi:/);
      expect((await violationsOf(c.rule, c.good, c.config)).map((v) => v.message), "violations of the good resources").to.deep.equal([]);
    });
  }

  it("lambda-alias-safe-deployment-in-prod finds the group beside the alias while the runner's input is unknown (a first preview)", async () => {
    const component = "urn:pulumi:prod::shop::serverless-orders:index:SecureFunction::g";
    const unknownInput: RecordedResource[] = [{ ...resource("serverless-orders:index:SecureFunction", "g", {}), urn: component, custom: false }, ...deployedFunction("g").map((r) => ({
      ...r,
      parent: component,
      ...(r.type === TYPES.invocation ? { inputs: { functionName: "g-deployer" }, outputs: { functionName: "g-deployer" } } : {}),
    }))];
    expect((await violationsOf("lambda-alias-safe-deployment-in-prod", unknownInput)).map((v) => v.message)).to.deep.equal([]);
    const withoutGroup = unknownInput.filter((r) => r.type !== TYPES.deploymentGroup);
    expect((await violationsOf("lambda-alias-safe-deployment-in-prod", withoutGroup)).map((v) => v.message)).to.deep.equal([
      "Function g's alias live in production stack prod has no CodeDeploy deployment group: each new version takes all its traffic at once and nothing rolls it back; set deployment on the function, e.g. { strategy: \"canary\", percentage: 10, minutes: 5 }.",
    ]);
  });

  it("takes enforcement levels from the pack config, as --policy-pack-config does, and refuses settings a rule does not declare", async () => {
    const bad = cases.find((c) => c.rule === "sqs-encrypted")!.bad;
    expect((await violationsOf("sqs-encrypted", bad, { "sqs-encrypted": "advisory" }))[0].enforcementLevel).to.equal("advisory");
    expect(await violationsOf("sqs-encrypted", bad, { all: "disabled" })).to.deep.equal([]);
    await checkPolicies(bad, { "sqs-encrypted": { publicRoutes: [] } }).then(
      () => expect.fail("accepted an undeclared setting"),
      (error: Error) => expect(error.message).to.equal("Policy pack config for sqs-encrypted sets publicRoutes, which the rule does not declare; allowed: none."),
    );
  });

  it("sqs-redrive-policy counts a queue that receives failures (invoke config, mapping, rule target, schedule, subscription) as a dead-letter queue", async () => {
    const dlq = (name: string) => `arn:aws:sqs:eu-west-1:123456789012:${name}`;
    const receivers = [queue("async-dlq"), queue("stream-dlq"), queue("rule-dlq"), queue("schedule-dlq"), queue("topic-dlq")];
    const senders = [
      resource(TYPES.eventInvokeConfig, "c", { functionName: "f", destinationConfig: { onFailure: { destination: dlq("async-dlq") } } }),
      resource(TYPES.eventSourceMapping, "m", { functionName: "f", destinationConfig: { onFailure: { destinationArn: dlq("stream-dlq") } } }),
      resource(TYPES.eventTarget, "t", { rule: "r", arn: `${ACCOUNT}:function:f`, deadLetterConfig: { arn: dlq("rule-dlq") } }),
      resource(TYPES.schedule, "s", { target: { arn: `${ACCOUNT}:function:f`, deadLetterConfig: { arn: dlq("schedule-dlq") } } }),
      resource(TYPES.topicSubscription, "sub", { protocol: "lambda", endpoint: `${ACCOUNT}:function:f`, redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq("topic-dlq") }) }),
    ];
    expect((await violationsOf("sqs-redrive-policy", [...receivers, ...senders])).map((v) => v.message)).to.deep.equal([]);
    expect((await violationsOf("sqs-redrive-policy", receivers)).map((v) => v.message)).to.have.length(5);
  });

  it("reads a deployment config's traffic shift from CodeDeploy's predefined names or a custom config's routing", () => {
    expect(describeTrafficShift(trafficShiftOf("CodeDeployDefault.LambdaCanary10Percent30Minutes"))).to.equal("canary 10% for 30 min");
    expect(describeTrafficShift(trafficShiftOf("CodeDeployDefault.LambdaLinear10PercentEvery1Minute"))).to.equal("linear 10% every 1 min");
    expect(describeTrafficShift(trafficShiftOf("CodeDeployDefault.LambdaAllAtOnce"))).to.equal("all at once");
    const custom = resource(TYPES.deploymentConfig, "c", { deploymentConfigName: "x", trafficRoutingConfig: { type: "TimeBasedLinear", timeBasedLinear: { percentage: 25, interval: 2 } } });
    expect(describeTrafficShift(trafficShiftOf("x", { ...custom, props: custom.inputs } as never))).to.equal("linear 25% every 2 min");
    expect(describeTrafficShift(trafficShiftOf("my-config"))).to.equal("unknown strategy");
  });

  it("reads function references, stacks and secrets the way AWS writes them", () => {
    expect(parseFunctionReference(`${ACCOUNT}:function:f:live`)).to.deep.equal({ name: "f", qualifier: "live" });
    expect(parseFunctionReference(`arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${ACCOUNT}:function:f/invocations`)).to.deep.equal({ name: "f", qualifier: undefined });
    expect(parseFunctionReference("f")).to.deep.equal({ name: "f" });
    expect(stackOf("urn:pulumi:prod::shop::aws:dynamodb/table:Table::orders")).to.equal("prod");
    expect(secretIn("GITHUB", "ghp_" + "a".repeat(36))).to.equal("a GitHub token");
    expect(secretIn("DATABASE_URL", "postgres://app:s3cret@db:5432/app")).to.equal("a URL with a password");
    expect(secretIn("DATABASE_URL", "postgres://db:5432/app")).to.equal(undefined);
  });
});

describe("IAM patterns (the policy pack's role checks and the local REST authorizer's policies)", () => {
  it("reads * as any run and ? as one character, and everything else literally", () => {
    const pattern = iamPattern("arn:aws:execute-api:eu-west-1:*:abc/v1/GET/orders/?");
    expect(pattern.test("arn:aws:execute-api:eu-west-1:123456789012:abc/v1/GET/orders/7")).to.equal(true);
    expect(pattern.test("arn:aws:execute-api:eu-west-1:123456789012:abc/v1/GET/orders/77"), "? is one character").to.equal(false);
    expect(iamPattern("a.b").test("axb"), ". is literal").to.equal(false);
    expect(iamPattern("lambda:*").test("lambda:InvokeFunction")).to.equal(true);
    expect(iamPattern("lambda:Invoke").test("lambda:InvokeFunction"), "anchored").to.equal(false);
  });
});
