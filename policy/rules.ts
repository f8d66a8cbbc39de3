/**
 * The rules of the serverless-orders policy pack, as plain data and pure functions: each
 * one is a Pulumi policy (resource or stack validation) that reads only `props`, `urn`,
 * `type` and the pack config, so the same objects run under `pulumi preview
 * --policy-pack policy` and, offline, against the resources the mock engine recorded
 * (tools/policy-check.ts). Only types are imported from @pulumi/policy: loading this file
 * starts nothing and pulls in neither the policy runtime nor @pulumi/aws.
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { asList, Graph, iamPattern, invokedFunctionArn, isStreamMapping, parseFunctionReference, qualifierKey, Statement, statementsOf, streamKindOf, TYPES } from "./graph";

export { parseFunctionReference, statementsOf, TYPES } from "./graph";

/**
 * The route part of the ARN API Gateway invokes from (after `<executionArn>/<stage>/`), as
 * AWS documents it: `POST/orders`, a path parameter as `*`, `ANY` as `*`, `$default` itself.
 */
function routeArnPath(routeKey: string): string {
  if (routeKey === "$default") return "$default";
  const [method, path = ""] = routeKey.split(" ");
  return `${method === "ANY" ? "*" : method}${path.replace(/\{[^}]*\}/g, "*")}`;
}

/** `<executionArn>/authorizers/<id>` (or `/authorizers/*`): where API Gateway invokes an authorizer's function from. */
const AUTHORIZER_SOURCE_ARN = /\/authorizers\/[^/]+$/;

/**
 * Security policies of API Gateway custom domains with TLS 1.2 as the minimum: `TLS_1_2`
 * and the enhanced `SecurityPolicy_TLS12_*` / `SecurityPolicy_TLS13_*` ones.
 */
const TLS_1_2_MINIMUM = /^(TLS_1_2|SecurityPolicy_TLS1[23]_.+)$/;

/**
 * Actions AWS does not scope to a resource, so `*` is their only resource. Kept here, not
 * imported from components/, so the pack checks the components rather than trusting them.
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL: readonly string[] = [
  "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
  "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
  "cloudwatch:PutMetricData", "ssm:DescribeParameters", "sts:GetCallerIdentity",
];

/**
 * The shortest visibility timeout of a queue a function consumes: AWS recommends 6x the
 * function timeout plus the maximum batching window. A copy of components/limits.ts's
 * rule (the pack must not import the components), pinned to it by test/policy/program.test.ts.
 */
export function minimumVisibilityTimeoutSeconds(functionTimeoutSeconds: number, batchWindowSeconds: number): number {
  return 6 * functionTimeoutSeconds + batchWindowSeconds;
}

/** HTTP APIs end every integration after 30 s. */
const HTTP_API_MAX_INTEGRATION_MS = 30_000;

/** Values that are credentials whatever their variable is called. */
const SECRET_VALUE_PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ["an AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["a GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ["a Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ["a Stripe live key", /\b[sr]k_live_[A-Za-z0-9]{16,}/],
  ["a JSON Web Token", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/],
  ["a URL with a password", /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i],
];

/**
 * Names that end saying "this is a secret" (`DB_PASSWORD`, `apiKey`, `CLIENT_SECRET`, not
 * `TOKEN_TABLE`); with a literal value beside them, it is one.
 */
const SECRET_NAME_PATTERN = /(secret|passw(or)?d|token|api[_-]?key|private[_-]?key|credentials?)$/i;

/**
 * The types whose inputs take `tags`: a copy of components/tags.ts's list (the pack must
 * not import the components), pinned to it by test/components/tags.test.ts.
 */
export const TAGGABLE_TYPES: readonly string[] = [
  "aws:lambda/function:Function", "aws:lambda/eventSourceMapping:EventSourceMapping", "aws:iam/role:Role",
  "aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/eventRule:EventRule",
  "aws:apigatewayv2/api:Api", "aws:apigatewayv2/stage:Stage", "aws:apigatewayv2/domainName:DomainName",
  "aws:apigateway/restApi:RestApi", "aws:apigateway/stage:Stage", "aws:apigateway/usagePlan:UsagePlan",
  "aws:apigateway/apiKey:ApiKey", "aws:apigateway/domainName:DomainName", "aws:wafv2/webAcl:WebAcl",
  "aws:acm/certificate:Certificate", "aws:codedeploy/application:Application", "aws:codedeploy/deploymentGroup:DeploymentGroup",
  "aws:sqs/queue:Queue", "aws:sns/topic:Topic", "aws:s3/bucket:Bucket", "aws:kinesis/stream:Stream",
  "aws:ssm/parameter:Parameter", "aws:dynamodb/table:Table", "aws:cognito/userPool:UserPool", "aws:kms/key:Key",
  "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/flowLog:FlowLog", "awsx:ec2:Vpc",
];

/** The keys the component library sets on every taggable resource (components/tags.ts). */
const LIBRARY_TAG_KEYS = ["project", "stack", "component"];

export type Policy = (ResourceValidationPolicy | StackValidationPolicy) & {
  /** The resource types the rule looks at: what a report counts as "checked". */
  resourceTypes: readonly string[];
  /** Resource or stack validation: what the reviewer should read "checked" as. */
  kind: "resource" | "stack";
};

interface RuleMetadata {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  remediationSteps: string;
  resourceTypes: readonly string[];
  configSchema?: ResourceValidationPolicy["configSchema"];
}

type Props = Record<string, any>;

function resourceRule(meta: RuleMetadata, check: (props: Props, report: (message: string) => void, args: ResourceValidationArgs) => void): Policy {
  return {
    ...meta,
    kind: "resource",
    validateResource: (args, reportViolation) => {
      if (!meta.resourceTypes.includes(args.type)) return;
      check(args.props, (message) => reportViolation(message), args);
    },
  };
}

function stackRule(meta: RuleMetadata, check: (graph: Graph, report: ReportViolation, args: StackValidationArgs) => void): Policy {
  return { ...meta, kind: "stack", validateStack: (args, reportViolation) => check(new Graph(args.resources), reportViolation, args) };
}

/** The stack of a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOf(urn: string): string {
  return urn.split("::")[0].split(":").slice(2).join(":");
}

/** Every policy document a resource carries: a policy's own, or a role's inline ones. */
function documentsOf(type: string, props: Props): Array<{ label: string; document: unknown }> {
  if (type === TYPES.role) return asList(props.inlinePolicies).map((p: any) => ({ label: `inline policy ${p.name ?? ""}`.trim(), document: p.policy }));
  return [{ label: "policy", document: props.policy }];
}

/** The Allow statements of every document a resource carries, each with where it is ("inline policy admin statement 0"). */
function allowStatementsOf(type: string, props: Props): Array<{ where: string; statement: Statement }> {
  return documentsOf(type, props).flatMap(({ label, document }) =>
    statementsOf(document)
      .map((statement, index) => ({ where: `${label} statement ${statement.Sid || index}`, statement }))
      .filter(({ statement }) => statement.Effect === "Allow"));
}
const isWildcardAction = (action: string) => action === "*" || /^[^:]+:\*$/.test(action);
const IAM_DOCUMENT_TYPES = [TYPES.rolePolicy, TYPES.policy, TYPES.role];

const AWS_MANAGED_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\//;

function trustsLambda(role: PolicyResource): boolean {
  try {
    return statementsOf(role.props.assumeRolePolicy).some((s) => s.Effect === "Allow" && JSON.stringify(s.Principal ?? "").includes("lambda.amazonaws.com"));
  } catch {
    return false;
  }
}

/** The roles a role reference (name, id or ARN) points at. */
function roleMatches(role: PolicyResource, reference: unknown): boolean {
  return reference !== undefined && [role.props.name, role.props.id, role.props.arn].includes(reference);
}

/** Policy attachments of a role: attachment resources and `managedPolicyArns`. */
function attachedPolicies(graph: Graph, role: PolicyResource): string[] {
  return [
    ...asList(role.props.managedPolicyArns),
    ...graph.of(TYPES.rolePolicyAttachment).filter((a) => roleMatches(role, a.props.role)).map((a) => a.props.policyArn),
    ...graph.of(TYPES.policyAttachment).filter((a) => asList(a.props.roles).some((r) => roleMatches(role, r))).map((a) => a.props.policyArn),
  ];
}

function isProduction(urn: string, config: { productionStacks?: string[] }): boolean {
  return (config.productionStacks ?? DEFAULT_PRODUCTION_STACKS).includes(stackOf(urn));
}

const DEFAULT_PRODUCTION_STACKS = ["prod", "production"];
const productionConfig = {
  properties: { productionStacks: { type: "array" as const, items: { type: "string" as const }, default: DEFAULT_PRODUCTION_STACKS } },
};

const secondsOf = (props: Props, key: string, fallback: number) => (typeof props[key] === "number" ? props[key] : fallback);
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
const SQS_DEFAULT_VISIBILITY_SECONDS = 30;
const LAMBDA_ALARM_METRICS = ["Errors", "Throttles", "Duration"];

export const policies: Policy[] = [
  // ---------------------------------------------------------------- IAM
  resourceRule({
    name: "iam-no-wildcard-actions",
    description: "IAM policies allow named actions only: no \"*\", no \"service:*\", no NotAction.",
    enforcementLevel: "mandatory",
    remediationSteps: "List the actions the code calls, e.g. \"dynamodb:GetItem\"; with SecureFunction, in `permissions`.",
    resourceTypes: IAM_DOCUMENT_TYPES,
  }, (props, report, args) => {
    for (const { where, statement } of allowStatementsOf(args.type, props)) {
      const wildcards = (statement.Action ?? []).filter(isWildcardAction);
      if (wildcards.length > 0) {
        report(`${where} allows ${wildcards.map((a) => JSON.stringify(a)).join(", ")}, every action of a service; list the actions the code calls, e.g. "dynamodb:GetItem".`);
      }
      if (statement.NotAction) {
        report(`${where} uses NotAction with Allow, which allows every other action; list the allowed actions in Action instead.`);
      }
    }
  }),
  resourceRule({
    name: "iam-no-wildcard-resources",
    description: "IAM policies name their resources; \"*\" only for actions that have no resource level (X-Ray, VPC network interfaces, ...).",
    enforcementLevel: "mandatory",
    remediationSteps: "Name the ARNs (table.arn, queue.arn, ...); keep \"*\" only in a statement of actions without resource-level permissions.",
    resourceTypes: IAM_DOCUMENT_TYPES,
  }, (props, report, args) => {
    for (const { where, statement } of allowStatementsOf(args.type, props)) {
      if (!(statement.Resource ?? []).includes("*")) continue;
      const scoped = (statement.Action ?? []).filter((action) => !ACTIONS_WITHOUT_RESOURCE_LEVEL.includes(action));
      if (scoped.length > 0) {
        report(`${where} grants ${scoped.join(", ")} on every resource ("*"); name the ARNs, e.g. table.arn, or move only the actions without resource level (${ACTIONS_WITHOUT_RESOURCE_LEVEL.slice(0, 2).join(", ")}, ...) to a "*" statement.`);
      }
    }
  }),
  stackRule({
    name: "iam-no-aws-managed-policies-on-function-roles",
    description: "Lambda execution roles carry no AWS managed policies: they grant far more than one function needs.",
    enforcementLevel: "mandatory",
    remediationSteps: "Remove the attachment and grant the few actions the function calls as an inline statement (SecureFunction `permissions`).",
    resourceTypes: [TYPES.role, TYPES.rolePolicyAttachment, TYPES.policyAttachment],
  }, (graph, report) => {
    for (const role of graph.of(TYPES.role).filter(trustsLambda)) {
      for (const arn of attachedPolicies(graph, role).filter((a) => AWS_MANAGED_POLICY.test(String(a)))) {
        report(`Function role ${role.name} has the AWS managed policy ${arn}; remove it and grant only the actions the function calls as an inline statement (SecureFunction \`permissions\`).`, role.urn);
      }
    }
  }),
  stackRule({
    name: "iam-no-mixed-inline-and-attached-policies",
    description: "A role holds either inline policies or attached policies, not both, so one place says what it may do.",
    enforcementLevel: "mandatory",
    remediationSteps: "Move the attached policy's statements into the role's inline policy (or the other way round) and delete the other.",
    resourceTypes: [TYPES.role, TYPES.rolePolicy, TYPES.rolePolicyAttachment, TYPES.policyAttachment],
  }, (graph, report) => {
    for (const role of graph.of(TYPES.role)) {
      const inline = asList(role.props.inlinePolicies).length + graph.of(TYPES.rolePolicy).filter((p) => roleMatches(role, p.props.role)).length;
      const attached = attachedPolicies(graph, role);
      if (inline > 0 && attached.length > 0) {
        report(`Role ${role.name} has ${inline} inline polic${inline === 1 ? "y" : "ies"} and attached ${attached.join(", ")}; keep its permissions in one place: fold the attached statements into the inline policy and remove the attachments.`, role.urn);
      }
    }
  }),

  // ---------------------------------------------------------------- Lambda
  resourceRule({
    name: "lambda-explicit-memory-and-timeout",
    description: "Every function sets memorySize and timeout; Lambda's defaults (128 MB, 3 s) are rarely right.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set memorySize (MB, 128-10240) and timeout (s, 1-900), e.g. 512 and 10.",
    resourceTypes: [TYPES.function],
  }, (props, report) => {
    const missing = ["memorySize", "timeout"].filter((key) => typeof props[key] !== "number");
    if (missing.length > 0) report(`Function ${props.name ?? ""} does not set ${missing.join(" and ")}; set them explicitly (memorySize in MB, 128-10240; timeout in seconds, 1-900).`);
  }),
  resourceRule({
    name: "lambda-tracing-active",
    description: "Every function has X-Ray active tracing.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set tracingConfig: { mode: \"Active\" } (SecureFunction: tracing: true) and allow xray:PutTraceSegments.",
    resourceTypes: [TYPES.function],
  }, (props, report) => {
    if (props.tracingConfig?.mode !== "Active") {
      report(`Function ${props.name ?? ""} has tracing mode ${props.tracingConfig?.mode ?? "unset"}; set tracingConfig: { mode: "Active" } (SecureFunction: tracing: true).`);
    }
  }),
  resourceRule({
    name: "lambda-sdk-timeouts-within-function-timeout",
    description: "A function's FUNCTION_TIMEOUT_SECONDS, from which its SDK clients derive their request and connection timeouts and attempts (handlers/lib/aws-clients.ts), is its own timeout: a larger one lets the clients' retries outlast the function.",
    enforcementLevel: "mandatory",
    remediationSteps: "Build the function with SecureFunction, which sets FUNCTION_TIMEOUT_SECONDS from its timeout; on a bare aws.lambda.Function set it to String(timeout).",
    resourceTypes: [TYPES.function],
  }, (props, report) => {
    const budget = props.environment?.variables?.FUNCTION_TIMEOUT_SECONDS;
    if (budget === undefined) return;
    const timeout = secondsOf(props, "timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS);
    if (String(budget) !== String(timeout)) {
      report(`Function ${props.name ?? ""} has FUNCTION_TIMEOUT_SECONDS ${JSON.stringify(budget)} but a timeout of ${timeout} s, so its SDK clients' timeouts and retries do not fit it; build it with SecureFunction (which sets the variable from its timeout), or set FUNCTION_TIMEOUT_SECONDS to "${timeout}".`);
    }
  }),
  stackRule({
    name: "lambda-log-group-with-retention",
    description: "Every function writes to a log group that this stack manages with a retention period.",
    enforcementLevel: "mandatory",
    remediationSteps: "Create the log group (/aws/lambda/<function name>, or loggingConfig.logGroup) with retentionInDays.",
    resourceTypes: [TYPES.function, TYPES.logGroup],
  }, (graph, report) => {
    for (const fn of graph.of(TYPES.function)) {
      const logGroupName = fn.props.loggingConfig?.logGroup ?? `/aws/lambda/${fn.props.name}`;
      const logGroup = graph.of(TYPES.logGroup).find((g) => g.props.name === logGroupName);
      if (!logGroup) {
        report(`Function ${fn.name} logs to ${logGroupName}, which this stack does not create, so Lambda creates it without retention; add an aws.cloudwatch.LogGroup named ${logGroupName} with retentionInDays.`, fn.urn);
      } else if (!(logGroup.props.retentionInDays > 0)) {
        report(`Log group ${logGroupName} of function ${fn.name} keeps logs forever; set retentionInDays (e.g. 30).`, logGroup.urn);
      }
    }
  }),
  stackRule({
    name: "lambda-async-failure-destination",
    description: "Functions invoked asynchronously (S3, SNS, EventBridge, the Scheduler, ...) have an on-failure destination (or a dead-letter queue) on the qualifier they are invoked on.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.lambda.FunctionEventInvokeConfig with destinationConfig.onFailure (an SQS queue or SNS topic) and the qualifier the source invokes (the alias), or deadLetterConfig on the function (SecureFunction: asyncInvoke.onFailure; EventWorker sets it).",
    resourceTypes: [TYPES.function, TYPES.permission, TYPES.topicSubscription, TYPES.bucketNotification, TYPES.eventTarget, TYPES.schedule, TYPES.eventInvokeConfig],
  }, (graph, report) => {
    const reported = new Set<string>();
    for (const { function: fn, qualifier, by } of graph.asyncInvocations()) {
      const key = `${fn.urn}:${qualifier ?? ""}`;
      if (reported.has(key) || fn.props.deadLetterConfig?.targetArn) continue;
      const config = graph.eventInvokeConfigFor(fn, qualifier);
      if (config?.props.destinationConfig?.onFailure?.destination) continue;
      reported.add(key);
      const target = `${fn.name}${qualifier ? `:${qualifier}` : ""}`;
      const elsewhere = !config && graph.of(TYPES.eventInvokeConfig).find((c) => graph.functionFor(c.props.functionName) === fn);
      report(elsewhere
        ? `Function ${target} is invoked asynchronously (${by}), but its event invoke config ${elsewhere.name} is on qualifier ${JSON.stringify(elsewhere.props.qualifier ?? "$LATEST")}, which this source does not invoke, so failed events are dropped; set the config's qualifier to ${JSON.stringify(qualifier ?? "$LATEST")} (SecureFunction asyncInvoke does).`
        : `Function ${target} is invoked asynchronously (${by}) but failed events are dropped after the retries; add an aws.lambda.FunctionEventInvokeConfig with ${qualifier ? `qualifier ${JSON.stringify(qualifier)} and ` : ""}destinationConfig.onFailure.destination (an SQS queue or SNS topic).`, fn.urn);
    }
  }),
  resourceRule({
    name: "lambda-stream-mapping-failure-handling",
    description: "A DynamoDB or Kinesis stream mapping bisects failing batches, reports partial failures, caps retries and record age, and sends what still fails to an on-failure destination, so one bad record cannot block its shard.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set bisectBatchOnFunctionError: true, functionResponseTypes: [\"ReportBatchItemFailures\"], maximumRetryAttempts (0-10000) and maximumRecordAgeInSeconds (60-604800) to finite values, and destinationConfig.onFailure.destinationArn to an SQS queue or SNS topic (StreamWorker does all of it).",
    resourceTypes: [TYPES.eventSourceMapping],
  }, (props, report, args) => {
    if (!isStreamMapping(props)) return;
    const stream = `Stream mapping ${args.name} (${streamKindOf(props.eventSourceArn) ?? "stream"} ${props.eventSourceArn ?? "unknown"})`;
    if (props.bisectBatchOnFunctionError !== true) {
      report(`${stream} does not bisect a failing batch, so one bad record fails every record with it; set bisectBatchOnFunctionError: true.`);
    }
    if (!asList(props.functionResponseTypes).includes("ReportBatchItemFailures")) {
      report(`${stream} does not let the function report the records that failed, so a whole batch is retried for one; set functionResponseTypes: ["ReportBatchItemFailures"] and return batchItemFailures.`);
    }
    if (!(typeof props.maximumRetryAttempts === "number" && props.maximumRetryAttempts >= 0)) {
      report(`${stream} retries a failing batch without end (maximumRetryAttempts ${props.maximumRetryAttempts ?? "unset"}, Lambda's default is -1, infinite) and blocks its shard meanwhile; set maximumRetryAttempts, e.g. 3.`);
    }
    if (!(typeof props.maximumRecordAgeInSeconds === "number" && props.maximumRecordAgeInSeconds >= 0)) {
      report(`${stream} retries records until they expire from the stream (maximumRecordAgeInSeconds ${props.maximumRecordAgeInSeconds ?? "unset"}, Lambda's default is -1, infinite); set maximumRecordAgeInSeconds, e.g. 86400.`);
    }
    if (!props.destinationConfig?.onFailure?.destinationArn) {
      report(`${stream} has no on-failure destination, so records that exhaust their retries are lost; set destinationConfig.onFailure.destinationArn to an SQS dead-letter queue (StreamWorker creates one).`);
    }
  }),
  resourceRule({
    name: "event-delivery-dead-letter-queue",
    description: "EventBridge rule targets and Scheduler schedules set their retry policy and a dead-letter queue, so an event they cannot deliver is kept, not dropped after 24 hours of retries.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set deadLetterConfig: { arn: dlq.arn } and retryPolicy: { maximumRetryAttempts, maximumEventAgeInSeconds } on the aws.cloudwatch.EventTarget, or on the aws.scheduler.Schedule's target (EventWorker sets both).",
    resourceTypes: [TYPES.eventTarget, TYPES.schedule],
  }, (props, report, args) => {
    const [what, target] = args.type === TYPES.schedule ? [`Schedule ${props.name ?? args.name}`, props.target ?? {}] : [`EventBridge target ${args.name} of rule ${props.rule}`, props];
    const where = args.type === TYPES.schedule ? "target." : "";
    if (!target.deadLetterConfig?.arn) {
      report(`${what} has no dead-letter queue, so an event it cannot deliver is dropped; set ${where}deadLetterConfig: { arn: <SQS queue ARN> }.`);
    }
    const retry = target.retryPolicy;
    if (!(typeof retry?.maximumRetryAttempts === "number" && typeof retry?.maximumEventAgeInSeconds === "number")) {
      report(`${what} has no explicit retry policy (the default retries 185 times over 24 hours); set ${where}retryPolicy: { maximumRetryAttempts, maximumEventAgeInSeconds }.`);
    }
  }),
  stackRule({
    name: "lambda-provisioned-concurrency-on-alias",
    description: "Provisioned concurrency is configured on an alias (or, with a CodeDeploy deployment, on the version being deployed; never $LATEST) and never above the function's reserved concurrency.",
    enforcementLevel: "mandatory",
    remediationSteps: "Publish a version, point an alias at it, set the qualifier to the alias; keep the provisioned total at most reservedConcurrentExecutions.",
    resourceTypes: [TYPES.provisionedConcurrency, TYPES.alias, TYPES.function],
  }, (graph, report) => {
    const totals = new Map<PolicyResource, number>();
    for (const config of graph.of(TYPES.provisionedConcurrency)) {
      const fn = graph.functionFor(config.props.functionName);
      const qualifier = String(config.props.qualifier);
      const alias = graph.of(TYPES.alias).find((a) => a.props.name === qualifier && graph.functionFor(a.props.functionName) === fn);
      // With a safe deployment the config is on the version being deployed, which CodeDeploy
      // moves the alias to (the runner's Invocation names both: components/deployment.ts).
      const deployed = graph.deployments().some((d) => d.function === fn && d.targetVersion === qualifier && d.alias !== undefined);
      if (!alias && !deployed) {
        report(`Provisioned concurrency ${config.name} is on qualifier ${JSON.stringify(qualifier)}, not an alias of ${fn?.name ?? config.props.functionName}; create an aws.lambda.Alias of a published version, use its name as qualifier, and invoke that alias.`, config.urn);
      }
      if (fn) totals.set(fn, (totals.get(fn) ?? 0) + Number(config.props.provisionedConcurrentExecutions));
    }
    for (const [fn, total] of totals) {
      const reserved = fn.props.reservedConcurrentExecutions;
      if (typeof reserved === "number" && reserved >= 0 && total > reserved) {
        report(`Function ${fn.name} has ${total} provisioned environments but reserved concurrency ${reserved}; provisioned must fit in reserved: lower it or raise reservedConcurrentExecutions.`, fn.urn);
      }
    }
  }),
  stackRule({
    name: "lambda-alias-safe-deployment-in-prod",
    description: "In production stacks every aliased function (callers invoke its alias) is deployed by a CodeDeploy deployment group for that alias that rolls back on DEPLOYMENT_STOP_ON_ALARM and watches at least one alarm. The deployment runners and hooks have no alias and are out of scope.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set `deployment` on the function (SecureFunction, or a route's or worker's function settings), e.g. { strategy: \"canary\", percentage: 10, minutes: 5 }: the component creates the group with alarm rollback on the function's own alarms.",
    resourceTypes: [TYPES.alias, TYPES.deploymentGroup, TYPES.invocation],
    configSchema: productionConfig,
  }, (graph, report, args) => {
    const config = args.getConfig<{ productionStacks?: string[] }>();
    const deployments = graph.deployments();
    const machinery = graph.deploymentMachinery();
    for (const alias of graph.of(TYPES.alias)) {
      if (!isProduction(alias.urn, config)) continue;
      const fn = graph.functionFor(alias.props.functionName);
      if (fn && machinery.has(fn)) continue;
      const of = `Function ${fn?.name ?? alias.props.functionName}'s alias ${alias.props.name ?? alias.name} in production stack ${stackOf(alias.urn)}`;
      const deployment = deployments.find((d) => d.alias === alias);
      if (!deployment?.group) {
        report(`${of} has no CodeDeploy deployment group: each new version takes all its traffic at once and nothing rolls it back; set deployment on the function, e.g. { strategy: "canary", percentage: 10, minutes: 5 }.`, alias.urn);
        continue;
      }
      const { group } = deployment;
      const rollback = group.props.autoRollbackConfiguration;
      if (rollback?.enabled !== true || !asList(rollback.events).includes("DEPLOYMENT_STOP_ON_ALARM")) {
        report(`${of} is deployed by group ${group.props.deploymentGroupName ?? group.name}, which does not roll back on alarm; set autoRollbackConfiguration { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] }.`, group.urn);
      }
      const alarms = group.props.alarmConfiguration;
      if (alarms?.enabled !== true || asList(alarms.alarms).length === 0) {
        report(`${of} is deployed by group ${group.props.deploymentGroupName ?? group.name}, which watches no alarm, so a failing version is never rolled back; set alarmConfiguration { enabled: true, alarms: [the function's errors alarm, ...] }.`, group.urn);
      }
    }
  }),
  resourceRule({
    name: "lambda-no-secrets-in-environment",
    description: "No secret in a function's environment variables: they show in the console, the API and every describe call.",
    enforcementLevel: "mandatory",
    remediationSteps: "Store the value as a SecureString parameter (SecureFunction `secrets`) and read it at run time.",
    resourceTypes: [TYPES.function],
  }, (props, report) => {
    for (const [key, value] of Object.entries((props.environment?.variables ?? {}) as Record<string, unknown>)) {
      const found = secretIn(key, value);
      if (found) report(`Environment variable ${key} of function ${props.name ?? ""} holds ${found}; store it as a SecureString parameter (SecureFunction \`secrets\`) and read it at run time.`);
    }
  }),

  // ---------------------------------------------------------------- Lambda permissions
  resourceRule({
    name: "lambda-permission-scoped",
    description: "A lambda.Permission never grants to \"*\", a service principal always names the sourceArn it may invoke from, and S3 also the sourceAccount.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set principal to the service (e.g. apigateway.amazonaws.com) and sourceArn to the caller's ARN (e.g. `${api.executionArn}/*/POST/orders`); for S3, sourceAccount too.",
    resourceTypes: [TYPES.permission],
  }, (props, report) => {
    if (props.principal === "*") {
      report(`Permission lets anyone ("*") invoke ${props.function}; name the calling service or account as principal, with its sourceArn.`);
    } else if (String(props.principal).endsWith(".amazonaws.com") && (!props.sourceArn || props.sourceArn === "*")) {
      report(`Permission lets ${props.principal} invoke ${props.function} from any source, including other accounts' resources; set sourceArn to the calling resource's ARN (e.g. \`\${api.executionArn}/*/POST/orders\`).`);    }
    // A bucket ARN names no account: a deleted bucket's name can be taken by anyone.
    if (props.principal === "s3.amazonaws.com" && !props.sourceAccount) {
      report(`Permission lets S3 invoke ${props.function} from bucket ${props.sourceArn ?? "(any)"}, whose ARN names no account, so another account's bucket of that name could invoke it; set sourceAccount to this account's id.`);
    }
  }),
  stackRule({
    name: "lambda-event-source-invoke-permission",
    description: "Every SNS subscription, EventBridge target and S3 notification that invokes a function has a lambda.Permission for its service on the same function and qualifier, scoped to that topic, rule or bucket; every schedule's role may invoke its target.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.lambda.Permission (principal sns/events/s3.amazonaws.com, the invoked qualifier, sourceArn the topic, rule or bucket ARN); give the Scheduler's role lambda:InvokeFunction on the target ARN itself, alias included (EventWorker does both).",
    resourceTypes: [TYPES.topicSubscription, TYPES.eventTarget, TYPES.bucketNotification, TYPES.schedule, TYPES.permission],
  }, (graph, report) => {
    const PRINCIPALS: Record<string, string> = { [TYPES.topicSubscription]: "sns.amazonaws.com", [TYPES.eventTarget]: "events.amazonaws.com", [TYPES.bucketNotification]: "s3.amazonaws.com" };
    for (const { function: fn, qualifier, source, by } of graph.asyncInvocations()) {
      const target = `${fn.name}${qualifier ? `:${qualifier}` : ""}`;
      if (source.type === TYPES.schedule) {
        const arn = source.props.target?.arn;
        const role = graph.roleWithArn(source.props.target?.roleArn);
        const allowed = graph.statementsOfRole(role).some((s) => s.Effect === "Allow" && (s.Action ?? []).includes("lambda:InvokeFunction") && (s.Resource ?? []).some((r) => iamPattern(r).test(String(arn))));
        if (!allowed) report(`${by} invokes ${target} but its role ${role?.name ?? source.props.target?.roleArn ?? "(none)"} may not invoke ${arn}, so every run fails; allow lambda:InvokeFunction on exactly that ARN (an alias ARN is not covered by the function's).`, source.urn);
        continue;
      }
      const principal = PRINCIPALS[source.type];
      if (!principal) continue; // a Permission itself
      const sourceArn = graph.invokerArnOf(source);
      const permitted = graph.of(TYPES.permission).some((p) =>
        p.props.principal === principal && graph.functionFor(p.props.function) === fn &&
        qualifierKey(p.props.qualifier ?? parseFunctionReference(p.props.function).qualifier) === qualifierKey(qualifier) &&
        (sourceArn === undefined || p.props.sourceArn === sourceArn));
      if (!permitted) {
        report(`${by} invokes ${target} but no permission lets ${principal} invoke it${qualifier ? ` with qualifier ${qualifier}` : ""}${sourceArn ? ` from ${sourceArn}` : ""}, so every delivery fails; add an aws.lambda.Permission (principal ${principal}, qualifier ${qualifier ?? "none"}, sourceArn ${sourceArn ?? "the source's ARN"}).`, source.urn);
      }
    }
  }),
  stackRule({
    name: "apigateway-integration-permission",
    description: "Every Lambda integration of an HTTP API has a lambda.Permission for API Gateway on the same function and qualifier, scoped to that API.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.lambda.Permission: principal apigateway.amazonaws.com, the integration's function and alias as function/qualifier, sourceArn `${api.executionArn}/*/<METHOD>/<path>` (one per route).",
    resourceTypes: [TYPES.integration, TYPES.permission],
  }, (graph, report) => {
    for (const integration of graph.of(TYPES.integration).filter((i) => i.props.integrationType === "AWS_PROXY")) {
      const target = parseFunctionReference(integration.props.integrationUri);
      const fn = graph.functionFor(integration.props.integrationUri);
      if (!fn) continue; // not a Lambda of this stack
      const api = graph.of(TYPES.api).find((a) => a.props.id === integration.props.apiId);
      const permitted = graph.of(TYPES.permission).some((p) =>
        p.props.principal === "apigateway.amazonaws.com" &&
        graph.functionFor(p.props.function) === fn &&
        (p.props.qualifier ?? parseFunctionReference(p.props.function).qualifier) === target.qualifier &&
        (!api?.props.executionArn || String(p.props.sourceArn ?? "").startsWith(api.props.executionArn)));
      if (!permitted) {
        report(`Integration ${integration.name} invokes ${fn.name}${target.qualifier ? `:${target.qualifier}` : ""} but no permission lets this API call it${target.qualifier ? " with that qualifier" : ""}, so requests fail with 500; add an aws.lambda.Permission (principal apigateway.amazonaws.com, qualifier ${target.qualifier ?? "none"}, sourceArn \`\${api.executionArn}/*/<METHOD>/<path>\` for each route).`, integration.urn);
      }
    }
  }),

  stackRule({
    name: "apigateway-permission-per-route",
    description: "API Gateway may invoke a function only from the routes that target it: each Lambda route has a lambda.Permission whose sourceArn names that route (`<executionArn>/*/<METHOD>/<path>`), and no API permission covers routes it does not serve (`/*/*`).",
    enforcementLevel: "mandatory",
    remediationSteps: "Give each route its own aws.lambda.Permission with sourceArn `${api.executionArn}/*/<METHOD>/<path>` ({param} as *, ANY as *, $default as `/*/$default`); ServerlessApi does this.",
    resourceTypes: [TYPES.route, TYPES.integration, TYPES.restIntegration, TYPES.permission],
  }, (graph, report) => {
    const apiPermissions = graph.of(TYPES.permission).filter((p) => p.props.principal === "apigateway.amazonaws.com");
    const named = new Set<PolicyResource>();
    for (const route of graph.of(TYPES.route)) {
      const integrationId = /^integrations\/(.+)$/.exec(String(route.props.target ?? ""))?.[1];
      const integration = graph.of(TYPES.integration).find((i) => i.props.id !== undefined && i.props.id === integrationId);
      const fn = integration && graph.functionFor(integration.props.integrationUri);
      if (!integration || !fn) continue; // not (yet) known to invoke a Lambda of this stack
      const qualifier = parseFunctionReference(integration.props.integrationUri).qualifier;
      const executionArn = graph.of(TYPES.api).find((a) => a.props.id === route.props.apiId)?.props.executionArn;
      const routeArn = `/*/${routeArnPath(String(route.props.routeKey))}`;
      const scoped = apiPermissions.filter((p) =>
        graph.functionFor(p.props.function) === fn &&
        (p.props.qualifier ?? parseFunctionReference(p.props.function).qualifier) === qualifier &&
        (executionArn ? p.props.sourceArn === `${executionArn}${routeArn}` : String(p.props.sourceArn ?? "").endsWith(routeArn)));
      for (const p of scoped) named.add(p);
      if (scoped.length === 0) {
        report(`Route ${route.props.routeKey} invokes ${fn.name} but no permission names it; add an aws.lambda.Permission for apigateway.amazonaws.com with sourceArn \`\${api.executionArn}${routeArn}\`.`, route.urn);
      }
    }
    // REST APIs: a method's source ARN is its HTTP method and its resource's path; an
    // authorizer's is `<executionArn>/authorizers/<id>`.
    for (const integration of graph.of(TYPES.restIntegration)) {
      const fn = graph.functionFor(integration.props.uri);
      const path = graph.restPathOf(integration.props.restApi, integration.props.resourceId);
      if (!fn || path === undefined) continue;
      const executionArn = graph.of(TYPES.restApi).find((a) => a.props.id === integration.props.restApi)?.props.executionArn;
      const method = integration.props.httpMethod === "ANY" ? "*" : integration.props.httpMethod;
      const methodArn = `/*/${method}${path.replace(/\{[^}]*\}/g, "*")}`;
      const scoped = apiPermissions.filter((p) => graph.functionFor(p.props.function) === fn && (executionArn ? p.props.sourceArn === `${executionArn}${methodArn}` : String(p.props.sourceArn ?? "").endsWith(methodArn)));
      for (const p of scoped) named.add(p);
      if (scoped.length === 0) report(`REST method ${integration.props.httpMethod} ${path} invokes ${fn.name} but no permission names it; add an aws.lambda.Permission for apigateway.amazonaws.com with sourceArn \`\${api.executionArn}${methodArn}\`.`, integration.urn);
    }
    for (const authorizer of graph.of(TYPES.restAuthorizer)) {
      const fn = graph.functionFor(authorizer.props.authorizerUri);
      const executionArn = graph.of(TYPES.restApi).find((a) => a.props.id === authorizer.props.restApi)?.props.executionArn;
      if (!fn || !executionArn || authorizer.props.id === undefined) continue;
      for (const p of apiPermissions) if (graph.functionFor(p.props.function) === fn && p.props.sourceArn === `${executionArn}/authorizers/${authorizer.props.id}`) named.add(p);
    }
    for (const p of apiPermissions) {
      // Authorizers' permissions are apigateway-lambda-authorizer-permission's to check.
      if (named.has(p) || typeof p.props.sourceArn !== "string" || AUTHORIZER_SOURCE_ARN.test(p.props.sourceArn)) continue; // unknown until deployed
      report(`Permission ${p.name} lets API Gateway invoke ${p.props.function} from ${p.props.sourceArn}, which names none of the routes that target it, so every other route of the API (and any added later) may call it; scope it to one route, \`\${api.executionArn}/*/<METHOD>/<path>\`, one permission per route.`, p.urn);
    }
  }),

  stackRule({
    name: "apigateway-lambda-authorizer-permission",
    description: "Every Lambda (REQUEST) authorizer of an HTTP API has a lambda.Permission for API Gateway on its function and qualifier, scoped to that API's authorizers (`<executionArn>/authorizers/<id>` or `/authorizers/*`), and no wider one.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.lambda.Permission: principal apigateway.amazonaws.com, the authorizer's function and alias as function/qualifier, sourceArn `${api.executionArn}/authorizers/${authorizer.id}`; ServerlessApi's auth.lambda does this.",
    resourceTypes: [TYPES.authorizer, TYPES.permission],
  }, (graph, report) => {
    for (const authorizer of graph.of(TYPES.authorizer).filter((a) => a.props.authorizerType === "REQUEST")) {
      const reference = invokedFunctionArn(authorizer.props.authorizerUri);
      const fn = graph.functionFor(reference);
      if (!fn) continue; // not a Lambda of this stack
      const qualifier = parseFunctionReference(reference).qualifier;
      const executionArn = graph.of(TYPES.api).find((a) => a.props.id === authorizer.props.apiId)?.props.executionArn;
      const allowed = executionArn ? [`${executionArn}/authorizers/${authorizer.props.id}`, `${executionArn}/authorizers/*`] : [];
      const permissions = graph.of(TYPES.permission).filter((p) =>
        p.props.principal === "apigateway.amazonaws.com" && graph.functionFor(p.props.function) === fn &&
        (p.props.qualifier ?? parseFunctionReference(p.props.function).qualifier) === qualifier);
      const scoped = permissions.filter((p) => executionArn ? allowed.includes(p.props.sourceArn) : AUTHORIZER_SOURCE_ARN.test(String(p.props.sourceArn ?? "")));
      if (scoped.length === 0) {
        report(`Authorizer ${authorizer.name} invokes ${fn.name}${qualifier ? `:${qualifier}` : ""} but no permission lets this API's authorizers call it${qualifier ? " with that qualifier" : ""}, so every request it guards fails with 500; add an aws.lambda.Permission (principal apigateway.amazonaws.com, qualifier ${qualifier ?? "none"}, sourceArn \`\${api.executionArn}/authorizers/\${authorizer.id}\`).`, authorizer.urn);
      }
      // A permission from no API, or from another API, lets anything run the authorizer (routes of this API are the per-route rule's).
      const wider = permissions.filter((p) => !scoped.includes(p) && (p.props.sourceArn === undefined || (executionArn && typeof p.props.sourceArn === "string" && !p.props.sourceArn.startsWith(`${executionArn}/`))));
      for (const p of wider) {
        report(`Permission ${p.name} lets API Gateway invoke the authorizer function ${fn.name} from ${p.props.sourceArn ?? "any API (no sourceArn)"}, beyond this API's authorizers; scope it to \`\${api.executionArn}/authorizers/\${authorizer.id}\`.`, p.urn);
      }
    }
  }),

  // ---------------------------------------------------------------- API Gateway
  resourceRule({
    name: "apigateway-domain-tls-1-2",
    description: "Every API Gateway custom domain name (HTTP or REST) refuses TLS below 1.2.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set securityPolicy \"TLS_1_2\" (apigatewayv2: domainNameConfiguration.securityPolicy; apigateway: securityPolicy, whose default is TLS_1_0); ServerlessApi's domain does this.",
    resourceTypes: [TYPES.domainName, TYPES.restDomainName],
  }, (props, report) => {
    const policy = props.domainNameConfiguration?.securityPolicy ?? props.securityPolicy;
    if (typeof policy === "string" && TLS_1_2_MINIMUM.test(policy)) return;
    report(`Domain name ${props.domainName ?? ""} has security policy ${policy === undefined ? "unset (TLS_1_0 for a REST API's domain)" : JSON.stringify(policy)}, which lets clients connect with TLS below 1.2; set securityPolicy "TLS_1_2".`);
  }),
  resourceRule({
    name: "apigateway-stage-access-logs",
    description: "Every API stage writes JSON access logs to a log group.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set accessLogSettings: { destinationArn: logGroup.arn, format: JSON.stringify({ requestId: \"$context.requestId\", ... }) }.",
    resourceTypes: [TYPES.stage, TYPES.restStage],
  }, (props, report) => {
    const settings = props.accessLogSettings;
    if (!settings?.destinationArn) {
      report(`Stage ${props.name ?? props.stageName ?? ""} has no access logs; set accessLogSettings with a log group ARN and a JSON format.`);
      return;
    }
    let json = false;
    try {
      json = typeof JSON.parse(settings.format) === "object";
    } catch {
      json = false;
    }
    if (!json) report(`Stage ${props.name ?? props.stageName ?? ""} logs access in a format that is not JSON; write the format as JSON.stringify({ requestId: "$context.requestId", status: "$context.status", ... }) so logs can be queried.`);
  }),
  resourceRule({
    name: "apigateway-stage-throttling",
    description: "Every HTTP API stage sets default throttling (rate and burst), so one client cannot run up the bill.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set defaultRouteSettings: { throttlingRateLimit, throttlingBurstLimit } (ServerlessApi: throttle).",
    resourceTypes: [TYPES.stage],
  }, (props, report) => {
    const settings = props.defaultRouteSettings ?? {};
    const missing = ["throttlingRateLimit", "throttlingBurstLimit"].filter((key) => !(settings[key] > 0));
    if (missing.length > 0) report(`Stage ${props.name ?? ""} has no default ${missing.join(" and ")}; set defaultRouteSettings.${missing[0]} (ServerlessApi: throttle { rateLimit, burstLimit }).`);
  }),
  resourceRule({
    name: "apigateway-route-authorization",
    description: "Every route is authorized (JWT, IAM or a custom authorizer) unless the pack config lists it as public on purpose.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set authorizationType (JWT with an authorizer, or AWS_IAM); for a deliberately public route, add its route key to publicRoutes in the pack config.",
    resourceTypes: [TYPES.route],
    configSchema: { properties: { publicRoutes: { type: "array", items: { type: "string" }, default: [] } } },
  }, (props, report, args) => {
    const { publicRoutes = [] } = args.getConfig<{ publicRoutes?: string[] }>();
    const type = props.authorizationType ?? "NONE";
    if (type === "NONE" && !publicRoutes.includes(props.routeKey)) {
      report(`Route ${JSON.stringify(props.routeKey)} has no authorization; set authorizationType "JWT" (with an authorizer) or "AWS_IAM", or, if it is public on purpose, add "${props.routeKey}" to publicRoutes of apigateway-route-authorization in policy/config.json.`);
    }
  }),
  resourceRule({
    name: "apigateway-integration-timeout",
    description: "HTTP API integration timeouts are within 50 ms-30 s: API Gateway ends the request at 30 s whatever the backend does.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set timeoutMilliseconds to at most 30000; move longer work to a queue (QueueWorker).",
    resourceTypes: [TYPES.integration],
  }, (props, report) => {
    const timeout = props.timeoutMilliseconds;
    if (typeof timeout === "number" && (timeout > HTTP_API_MAX_INTEGRATION_MS || timeout < 50)) {
      report(`Integration timeout ${timeout} ms is outside the HTTP API's 50-${HTTP_API_MAX_INTEGRATION_MS} ms; set timeoutMilliseconds to at most ${HTTP_API_MAX_INTEGRATION_MS} and move longer work to a queue.`);
    }
  }),
  stackRule({
    name: "apigateway-function-timeout-within-integration",
    description: "A function behind an HTTP API integration does not run longer than the integration waits.",
    enforcementLevel: "advisory",
    remediationSteps: "Lower the function's timeout to the integration's (at most 30 s), or move the work to a queue.",
    resourceTypes: [TYPES.integration, TYPES.function],
  }, (graph, report) => {
    for (const integration of graph.of(TYPES.integration)) {
      const fn = graph.functionFor(integration.props.integrationUri);
      if (!fn) continue;
      const limitMs = integration.props.timeoutMilliseconds ?? HTTP_API_MAX_INTEGRATION_MS;
      const timeout = secondsOf(fn.props, "timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS);
      if (timeout * 1000 > limitMs) {
        report(`Function ${fn.name} may run ${timeout} s but its integration ${integration.name} gives up after ${limitMs / 1000} s, and the client gets 503 while the work goes on; lower the timeout or move the work to a queue.`, fn.urn);
      }
    }
  }),

  stackRule({
    name: "apigateway-rest-stage-throttling",
    description: "Every REST API stage throttles all its methods (method settings */* with rate and burst), so one client cannot run up the bill.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.apigateway.MethodSettings for the stage with methodPath \"*/*\" and settings { throttlingRateLimit, throttlingBurstLimit } (RestApi: throttle).",
    resourceTypes: [TYPES.restStage, TYPES.restMethodSettings],
  }, (graph, report) => {
    for (const stage of graph.of(TYPES.restStage)) {
      const settings = graph.of(TYPES.restMethodSettings).filter((m) => m.props.restApi === stage.props.restApi && m.props.stageName === stage.props.stageName && m.props.methodPath === "*/*");
      if (!settings.some((m) => m.props.settings?.throttlingRateLimit > 0 && m.props.settings?.throttlingBurstLimit > 0)) {
        report(`REST stage ${stage.props.stageName ?? stage.name} has no throttling of all its methods; add method settings "*/*" with throttlingRateLimit and throttlingBurstLimit (RestApi: throttle { rateLimit, burstLimit }).`, stage.urn);
      }
    }
  }),
  resourceRule({
    name: "apigateway-rest-stage-tracing",
    description: "Every REST API stage traces requests with X-Ray.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set xrayTracingEnabled: true on the stage (RestApi: tracing, on by default).",
    resourceTypes: [TYPES.restStage],
  }, (props, report) => {
    if (props.xrayTracingEnabled !== true) report(`REST stage ${props.stageName ?? ""} does not trace with X-Ray; set xrayTracingEnabled: true (RestApi: tracing: true).`);
  }),
  stackRule({
    name: "apigateway-rest-waf-in-prod",
    description: "In production stacks every REST API stage has a WAF web ACL.",
    enforcementLevel: "mandatory",
    remediationSteps: "Associate a REGIONAL WAFv2 web ACL with the stage (aws.wafv2.WebAclAssociation; RestApi: waf { webAclArn } or waf { rateLimitPerIp }).",
    resourceTypes: [TYPES.restStage, TYPES.webAclAssociation],
    configSchema: productionConfig,
  }, (graph, report, args) => {
    const config = args.getConfig<{ productionStacks?: string[] }>();
    for (const stage of graph.of(TYPES.restStage)) {
      if (!isProduction(stage.urn, config) || typeof stage.props.arn !== "string") continue; // unknown until deployed
      if (!graph.of(TYPES.webAclAssociation).some((a) => a.props.resourceArn === stage.props.arn)) {
        report(`REST stage ${stage.props.stageName ?? stage.name} in production stack ${stackOf(stage.urn)} has no WAF web ACL; associate one (RestApi: waf { rateLimitPerIp: 2000 } or waf { webAclArn }).`, stage.urn);
      }
    }
  }),
  resourceRule({
    name: "apigateway-no-api-key-only-writes",
    description: "No REST method that writes (POST, PUT, PATCH, DELETE, ANY) is authorized by an API key alone: keys identify clients for usage plans, they are not credentials.",
    enforcementLevel: "mandatory",
    remediationSteps: "Give the method an authorizer (COGNITO_USER_POOLS, CUSTOM or AWS_IAM; RestApi route auth) besides apiKeyRequired.",
    resourceTypes: [TYPES.restMethod],
  }, (props, report) => {
    if (["POST", "PUT", "PATCH", "DELETE", "ANY"].includes(props.httpMethod) && props.apiKeyRequired === true && (props.authorization ?? "NONE") === "NONE") {
      report(`${props.httpMethod} method on resource ${props.resourceId ?? ""} writes with an API key as its only credential (authorization NONE); keys are sent in clear by every client that has one and are not meant to authorize writes: set an authorizer (RestApi route auth "cognito", "lambda" or "iam").`);
    }
  }),
  // ---------------------------------------------------------------- Tags
  resourceRule({
    name: "tags-required-in-prod",
    description: "In production stacks every taggable resource carries the cost-allocation tags project, stack and component (the component library sets them), and the keys the pack config requires.",
    enforcementLevel: "mandatory",
    remediationSteps: "Create the resource inside a component (which tags its children), or give it tags: register the library's `tagging(stackTags)` as a stack transformation for resources outside components; set the required keys in the stack's tags config.",
    resourceTypes: TAGGABLE_TYPES,
    configSchema: {
      properties: {
        ...productionConfig.properties,
        requiredKeys: { type: "array", items: { type: "string" }, default: [] },
      },
    },
  }, (props, report, args) => {
    const config = args.getConfig<{ productionStacks?: string[]; requiredKeys?: string[] }>();
    if (!isProduction(args.urn, config)) return;
    // `tagsAll`, where the provider computed it, holds the stack's aws:defaultTags too.
    const tags: Record<string, unknown> = { ...props.tagsAll, ...props.tags };
    const missing = [...LIBRARY_TAG_KEYS, ...(config.requiredKeys ?? [])].filter((key) => typeof tags[key] !== "string" || tags[key] === "");
    if (missing.length > 0) {
      report(`${args.type.split(":").pop()} ${args.name} in production stack ${stackOf(args.urn)} has no ${missing.join(", ")} tag${missing.length > 1 ? "s" : ""}, so its cost cannot be allocated; create it inside a component or tag it (tagging() as a stack transformation), and set the required keys.`);
    }
  }),

  // ---------------------------------------------------------------- SQS
  resourceRule({
    name: "sqs-encrypted",
    description: "Every queue is encrypted at rest (SSE-SQS or KMS).",
    enforcementLevel: "mandatory",
    remediationSteps: "Set sqsManagedSseEnabled: true, or kmsMasterKeyId.",
    resourceTypes: [TYPES.queue],
  }, (props, report) => {
    if (props.sqsManagedSseEnabled !== true && !props.kmsMasterKeyId) report(`Queue ${props.name ?? ""} is not encrypted at rest; set sqsManagedSseEnabled: true (or kmsMasterKeyId).`);
  }),
  stackRule({
    name: "sqs-tls-only",
    description: "Every queue has a policy that denies requests made without TLS.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.sqs.QueuePolicy with a Deny of sqs:* for any principal when aws:SecureTransport is false.",
    resourceTypes: [TYPES.queue, TYPES.queuePolicy],
  }, (graph, report) => {
    for (const queue of graph.of(TYPES.queue)) {
      const documents = [queue.props.policy, ...graph.of(TYPES.queuePolicy).filter((p) => [queue.props.url, queue.props.id].includes(p.props.queueUrl)).map((p) => p.props.policy)];
      const denies = documents.flatMap((d) => statementsOf(d)).some((s) =>
        s.Effect === "Deny" &&
        (s.Action ?? []).some((a) => a === "*" || a === "sqs:*") &&
        String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false");
      if (!denies) {
        report(`Queue ${queue.name} accepts requests without TLS; add an aws.sqs.QueuePolicy that denies "sqs:*" to "*" when aws:SecureTransport is "false".`, queue.urn);
      }
    }
  }),
  stackRule({
    name: "sqs-redrive-policy",
    description: "Every source queue (one that is no other queue's dead-letter queue, nor a failure destination of a function, mapping, rule target, schedule or subscription) has a redrive policy to a dead-letter queue.",
    enforcementLevel: "mandatory",
    remediationSteps: "Create a dead-letter queue and set redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }).",
    resourceTypes: [TYPES.queue, TYPES.redrivePolicy, TYPES.eventInvokeConfig, TYPES.eventSourceMapping, TYPES.eventTarget, TYPES.schedule, TYPES.topicSubscription],
  }, (graph, report) => {
    const redriveOf = new Map(graph.of(TYPES.queue).map((queue) => {
      const separate = graph.of(TYPES.redrivePolicy).find((r) => [queue.props.url, queue.props.id].includes(r.props.queueUrl));
      const text = separate?.props.redrivePolicy ?? queue.props.redrivePolicy;
      return [queue, text ? (typeof text === "string" ? JSON.parse(text) : text) : undefined];
    }));
    // A queue that receives what failed elsewhere (a redrive, an on-failure destination) is a dead-letter queue.
    const deadLetterArns = graph.failureDestinations();
    for (const [queue, redrive] of redriveOf) {
      if (deadLetterArns.has(queue.props.arn)) continue;
      if (!redrive?.deadLetterTargetArn || !(redrive.maxReceiveCount > 0)) {
        report(`Queue ${queue.name} has no redrive policy, so a message that always fails is retried until it expires; create a dead-letter queue and set redrivePolicy { deadLetterTargetArn, maxReceiveCount } (QueueWorker does both).`, queue.urn);
      }
    }
  }),
  stackRule({
    name: "sqs-visibility-timeout",
    description: "A queue's visibility timeout is at least 6x the timeout of the function that consumes it (plus its batch window).",
    enforcementLevel: "mandatory",
    remediationSteps: "Raise visibilityTimeoutSeconds to 6 x function timeout + maximumBatchingWindowInSeconds, or lower the function's timeout.",
    resourceTypes: [TYPES.eventSourceMapping, TYPES.queue, TYPES.function],
  }, (graph, report) => {
    for (const mapping of graph.of(TYPES.eventSourceMapping)) {
      const queue = graph.of(TYPES.queue).find((q) => q.props.arn === mapping.props.eventSourceArn);
      const fn = graph.functionFor(mapping.props.functionName);
      if (!queue || !fn) continue;
      const timeout = secondsOf(fn.props, "timeout", LAMBDA_DEFAULT_TIMEOUT_SECONDS);
      const needed = minimumVisibilityTimeoutSeconds(timeout, mapping.props.maximumBatchingWindowInSeconds ?? 0);
      const visibility = secondsOf(queue.props, "visibilityTimeoutSeconds", SQS_DEFAULT_VISIBILITY_SECONDS);
      if (visibility < needed) {
        report(`Queue ${queue.name} hides a received message for ${visibility} s, but its consumer ${fn.name} may run ${timeout} s; messages in work would be delivered again. Set visibilityTimeoutSeconds to at least ${needed} (6 x ${timeout} s${needed > 6 * timeout ? " + batch window" : ""}).`, queue.urn);
      }
    }
  }),

  // ---------------------------------------------------------------- Cognito, SNS, VPC
  resourceRule({
    name: "cognito-mfa-in-prod",
    description: "In production stacks every Cognito user pool has MFA, required or optional, with an authenticator app (TOTP) among its factors.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set mfaConfiguration: \"ON\" (or \"OPTIONAL\") and softwareTokenMfaConfiguration: { enabled: true } on the aws.cognito.UserPool.",
    resourceTypes: [TYPES.userPool],
    configSchema: productionConfig,
  }, (props, report, args) => {
    if (!isProduction(args.urn, args.getConfig())) return;
    const mode = props.mfaConfiguration ?? "OFF";
    if (!["ON", "OPTIONAL"].includes(mode) || props.softwareTokenMfaConfiguration?.enabled !== true) {
      report(`User pool ${props.name ?? args.name} in production stack ${stackOf(args.urn)} has MFA ${mode}${props.softwareTokenMfaConfiguration?.enabled === true ? "" : " without an authenticator app (TOTP)"}, so a stolen password is enough to sign in; set mfaConfiguration: "ON" (or "OPTIONAL") and softwareTokenMfaConfiguration: { enabled: true }.`);
    }
  }),
  resourceRule({
    name: "cognito-threat-protection-in-prod",
    description: "In production stacks every Cognito user pool enforces threat protection (compromised credentials, adaptive authentication), which needs the Plus feature plan.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set userPoolTier: \"PLUS\" and userPoolAddOns: { advancedSecurityMode: \"ENFORCED\" } on the aws.cognito.UserPool.",
    resourceTypes: [TYPES.userPool],
    configSchema: productionConfig,
  }, (props, report, args) => {
    if (!isProduction(args.urn, args.getConfig())) return;
    const mode = props.userPoolAddOns?.advancedSecurityMode ?? "OFF";
    if (mode !== "ENFORCED" || props.userPoolTier !== "PLUS") {
      report(`User pool ${props.name ?? args.name} in production stack ${stackOf(args.urn)} has threat protection ${mode} on tier ${props.userPoolTier ?? "unset"}, so sign-ins with leaked or risky credentials go through; set userPoolTier: "PLUS" and userPoolAddOns: { advancedSecurityMode: "ENFORCED" }.`);
    }
  }),
  resourceRule({
    name: "apigateway-jwt-route-scopes",
    description: "Every JWT route requires an OAuth scope, so only access tokens (which carry scopes) are accepted, not ID tokens (which carry none) of the same audience.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set authorizationScopes on the route (ServerlessApi route `scopes`, e.g. [\"orders/read\"]) from a Cognito resource server the client may request.",
    resourceTypes: [TYPES.route],
  }, (props, report) => {
    if (props.authorizationType === "JWT" && asList(props.authorizationScopes).length === 0) {
      report(`Route ${JSON.stringify(props.routeKey)} accepts any JWT of its audience, ID tokens included; set authorizationScopes (ServerlessApi route \`scopes\`, e.g. ["orders/read"]) so only access tokens granted that scope pass.`);
    }
  }),
  stackRule({
    name: "sns-tls-only",
    description: "Every SNS topic's policy denies publishing to \"*\" when aws:SecureTransport is false.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.sns.TopicPolicy with a Deny of \"sns:Publish\" (or \"sns:*\") for Principal \"*\" when aws:SecureTransport is \"false\", keeping the Allow statements the publishers need.",
    resourceTypes: [TYPES.topic, TYPES.topicPolicy],
  }, (graph, report) => {
    for (const topic of graph.of(TYPES.topic)) {
      const documents = [topic.props.policy, ...graph.of(TYPES.topicPolicy).filter((p) => [topic.props.arn, topic.props.id].includes(p.props.arn)).map((p) => p.props.policy)];
      const denies = documents.flatMap((d) => statementsOf(d)).some((s) =>
        s.Effect === "Deny" &&
        (s.Action ?? []).some((a) => ["*", "sns:*", "sns:Publish"].includes(a)) &&
        String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false");
      if (!denies) {
        report(`Topic ${topic.name} accepts messages without TLS; add an aws.sns.TopicPolicy that denies "sns:Publish" to "*" when aws:SecureTransport is "false".`, topic.urn);
      }
    }
  }),
  resourceRule({
    name: "vpc-endpoint-policy",
    description: "Every VPC endpoint has a policy that names the actions it lets through, not AWS's default that allows every action on every resource.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set policy on the aws.ec2.VpcEndpoint: Allow the actions the functions call, on this stack's resources (Resource \"*\" only for actions without resource level), for this account (aws:PrincipalAccount).",
    resourceTypes: [TYPES.vpcEndpoint],
  }, (props, report, args) => {
    const service = String(props.serviceName ?? args.name);
    const allows = statementsOf(props.policy).filter((s) => s.Effect === "Allow");
    if (allows.length === 0) {
      report(`VPC endpoint ${args.name} (${service}) has no policy, so it lets any principal do anything on any resource of the service through it, another account's included; set policy to the actions the functions call, on this stack's resources.`);
    }
    for (const s of allows.filter((s) => (s.Action ?? []).some(isWildcardAction) || s.NotAction)) {
      report(`VPC endpoint ${args.name} (${service}) allows ${JSON.stringify(s.Action ?? s.NotAction)}, every action of the service; list the actions the functions call.`);
    }
  }),
  stackRule({
    name: "vpc-flow-logs-in-prod",
    description: "In production stacks every VPC has a flow log.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add an aws.ec2.FlowLog (vpcId, trafficType \"ALL\") to a CloudWatch log group with retention, with a role that may write only to that group.",
    resourceTypes: [TYPES.vpc, TYPES.ec2Vpc, TYPES.flowLog],
    configSchema: productionConfig,
  }, (graph, report, args) => {
    const logged = new Set(graph.of(TYPES.flowLog).map((f) => f.props.vpcId));
    const reported = new Set<unknown>();
    // The awsx component and the aws:ec2 VPC inside it are one VPC: report it once.
    for (const [vpc, id] of [...graph.of(TYPES.ec2Vpc).map((v) => [v, v.props.id] as const), ...graph.of(TYPES.vpc).map((v) => [v, v.props.vpcId] as const)]) {
      if (!isProduction(vpc.urn, args.getConfig()) || logged.has(id) || reported.has(id)) continue;
      reported.add(id);
      report(`VPC ${vpc.name} (${id}) in production stack ${stackOf(vpc.urn)} has no flow log, so its connections, accepted and rejected, leave no trace; add an aws.ec2.FlowLog with vpcId ${id} and trafficType "ALL" to a log group with retention.`, vpc.urn);
    }
  }),
  stackRule({
    name: "lambda-security-group-egress",
    description: "Security groups of functions in a VPC allow no egress to every address (0.0.0.0/0, ::/0): only to the endpoints or hosts they call.",
    enforcementLevel: "mandatory",
    remediationSteps: "Replace the egress rule to 0.0.0.0/0 with rules to the VPC endpoints (their CIDR or security group) and gateway endpoints' prefix lists, on port 443.",
    resourceTypes: [TYPES.function, TYPES.securityGroup],
  }, (graph, report) => {
    const groupsOfFunctions = new Set(graph.of(TYPES.function).flatMap((fn) => asList(fn.props.vpcConfig?.securityGroupIds)));
    for (const group of graph.of(TYPES.securityGroup).filter((g) => groupsOfFunctions.has(g.props.id))) {
      const open = asList(group.props.egress).filter((rule: any) => asList(rule.cidrBlocks).includes("0.0.0.0/0") || asList(rule.ipv6CidrBlocks).includes("::/0"));
      if (open.length > 0) {
        report(`Security group ${group.name} of the functions allows egress to every address (${open.map((r: any) => `${r.protocol} ${r.fromPort}-${r.toPort}`).join(", ")}); allow port 443 to the VPC endpoints (their CIDR or security group) and gateway endpoints' prefix lists only.`, group.urn);
      }
    }
  }),

  // ---------------------------------------------------------------- SSM, DynamoDB, CloudWatch
  resourceRule({
    name: "ssm-secrets-as-securestring",
    description: "Parameters that hold secrets are SecureString.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set type: \"SecureString\" (SecureFunction: pass the value in `secrets`, as a Pulumi secret).",
    resourceTypes: [TYPES.parameter],
  }, (props, report) => {
    if (props.type === "SecureString") return;
    const key = String(props.name ?? "").split("/").pop() ?? "";
    const found = secretIn(key, props.value);
    if (found) report(`Parameter ${props.name} holds ${found} as ${props.type ?? "String"}; make it type "SecureString" (SecureFunction: pass it in \`secrets\`).`);
  }),
  resourceRule({
    name: "dynamodb-point-in-time-recovery",
    description: "Every DynamoDB table has point-in-time recovery.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set pointInTimeRecovery: { enabled: true }.",
    resourceTypes: [TYPES.table],
  }, (props, report) => {
    if (props.pointInTimeRecovery?.enabled !== true) report(`Table ${props.name ?? ""} has no point-in-time recovery; set pointInTimeRecovery: { enabled: true }.`);
  }),
  resourceRule({
    name: "dynamodb-deletion-protection-in-prod",
    description: "In production stacks every DynamoDB table has deletion protection.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set deletionProtectionEnabled: true (and the Pulumi `protect` option) in production stacks.",
    resourceTypes: [TYPES.table],
    configSchema: productionConfig,
  }, (props, report, args) => {
    if (isProduction(args.urn, args.getConfig()) && props.deletionProtectionEnabled !== true) {
      report(`Table ${props.name ?? ""} in production stack ${stackOf(args.urn)} can be deleted; set deletionProtectionEnabled: true.`);
    }
  }),
  resourceRule({
    name: "kms-customer-managed-in-prod",
    description: "In production stacks queues, SecureString parameters, log groups and tables are encrypted with a customer-managed KMS key, not an AWS owned or managed one.",
    enforcementLevel: "mandatory",
    remediationSteps: "Pass the stack's key as kmsKeyArn to the components (queues: kmsMasterKeyId; parameters: keyId; log groups: kmsKeyId; tables: serverSideEncryption.kmsKeyArn).",
    resourceTypes: [TYPES.queue, TYPES.parameter, TYPES.logGroup, TYPES.table],
    configSchema: productionConfig,
  }, (props, report, args) => {
    if (!isProduction(args.urn, args.getConfig())) return;
    const found = encryptionKeyOf(args.type, props);
    if (found === "not applicable" || isCustomerManagedKey(found.key)) return;
    const what = found.key === undefined ? "an AWS owned or managed key" : `the AWS managed key ${found.key}`;
    report(`${found.kind} ${props.name ?? ""} in production stack ${stackOf(args.urn)} is encrypted with ${what}; set ${found.field} to a customer-managed key's ARN (the components' kmsKeyArn).`);
  }),
  resourceRule({
    name: "cloudwatch-alarm-actions-in-prod",
    description: "In production stacks every alarm notifies someone.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set alarmActions to an SNS topic that pages the on-call (SecureFunction/QueueWorker: alarmActions).",
    resourceTypes: [TYPES.alarm],
    configSchema: productionConfig,
  }, (props, report, args) => {
    if (isProduction(args.urn, args.getConfig()) && asList(props.alarmActions).length === 0) {
      report(`Alarm ${props.name ?? ""} in production stack ${stackOf(args.urn)} has no actions, so nobody hears it; set alarmActions to the alarm topic's ARN.`);
    }
  }),
  resourceRule({
    name: "cloudwatch-log-retention",
    description: "Every log group has a retention period.",
    enforcementLevel: "mandatory",
    remediationSteps: "Set retentionInDays to one of CloudWatch Logs' values, e.g. 30.",
    resourceTypes: [TYPES.logGroup],
  }, (props, report) => {
    if (!(props.retentionInDays > 0)) report(`Log group ${props.name ?? ""} keeps logs forever (and bills them); set retentionInDays, e.g. 30.`);
  }),
  stackRule({
    name: "lambda-alarms",
    description: "Every function has alarms on its errors, throttles and duration.",
    enforcementLevel: "mandatory",
    remediationSteps: "Add aws.cloudwatch.MetricAlarm on AWS/Lambda Errors, Throttles and Duration with dimensions { FunctionName } (SecureFunction creates them).",
    resourceTypes: [TYPES.function, TYPES.alarm],
    configSchema: { properties: { metrics: { type: "array", items: { type: "string" }, default: LAMBDA_ALARM_METRICS } } },
  }, (graph, report, args) => {
    const { metrics = LAMBDA_ALARM_METRICS } = args.getConfig<{ metrics?: string[] }>();
    for (const fn of graph.of(TYPES.function)) {
      const watched = new Set(graph.of(TYPES.alarm)
        .filter((a) => a.props.namespace === "AWS/Lambda" && a.props.dimensions?.FunctionName === fn.props.name)
        .map((a) => a.props.metricName));
      const missing = metrics.filter((m) => !watched.has(m));
      if (missing.length > 0) {
        report(`Function ${fn.name} has no alarm on ${missing.join(", ")}; add aws.cloudwatch.MetricAlarm on AWS/Lambda ${missing.join(", ")} with dimensions { FunctionName: ${fn.props.name} } (SecureFunction creates them).`, fn.urn);
      }
    }
  }),
  stackRule({
    name: "lambda-event-source-alarms",
    description: "A stream consumer has an IteratorAge alarm (records waiting), and an asynchronously invoked function an AsyncEventsDropped alarm (events lost).",
    enforcementLevel: "mandatory",
    remediationSteps: "Add aws.cloudwatch.MetricAlarm on AWS/Lambda IteratorAge (stream consumers) or AsyncEventsDropped (async functions) with dimensions { FunctionName } (StreamWorker and EventWorker create them).",
    resourceTypes: [TYPES.eventSourceMapping, TYPES.topicSubscription, TYPES.eventTarget, TYPES.bucketNotification, TYPES.schedule, TYPES.alarm],
  }, (graph, report) => {
    const needs = new Map<PolicyResource, Set<string>>();
    const need = (fn: PolicyResource | undefined, metric: string) => fn && needs.set(fn, new Set([...(needs.get(fn) ?? []), metric]));
    for (const m of graph.of(TYPES.eventSourceMapping).filter((m) => isStreamMapping(m.props))) need(graph.functionFor(m.props.functionName), "IteratorAge");
    for (const { function: fn } of graph.asyncInvocations()) need(fn, "AsyncEventsDropped");
    for (const [fn, metrics] of needs) {
      const watched = new Set(graph.alarmsOn("FunctionName", fn.props.name).filter((a) => a.props.namespace === "AWS/Lambda").map((a) => a.props.metricName));
      const missing = [...metrics].filter((m) => !watched.has(m));
      if (missing.length > 0) {
        const unheard = missing.map((m) => (m === "IteratorAge" ? "records waiting behind a failing batch" : "events dropped after their retries"));
        report(`Function ${fn.name} has no alarm on ${missing.join(", ")}, so nobody hears of ${unheard.join(" or ")}; add aws.cloudwatch.MetricAlarm on AWS/Lambda ${missing.join(", ")} with dimensions { FunctionName: ${fn.props.name} }.`, fn.urn);
      }
    }
  }),
];

/** The key a resource is encrypted with and the property that names it; plain String parameters hold nothing to encrypt. */
function encryptionKeyOf(type: string, props: Props): { kind: string; field: string; key: unknown } | "not applicable" {
  if (type === TYPES.queue) return { kind: "Queue", field: "kmsMasterKeyId", key: props.kmsMasterKeyId };
  if (type === TYPES.logGroup) return { kind: "Log group", field: "kmsKeyId", key: props.kmsKeyId };
  if (type === TYPES.table) return { kind: "Table", field: "serverSideEncryption.kmsKeyArn", key: props.serverSideEncryption?.enabled === true ? props.serverSideEncryption.kmsKeyArn : undefined };
  if (type === TYPES.parameter && props.type === "SecureString") return { kind: "SecureString parameter", field: "keyId", key: props.keyId };
  return "not applicable";
}

/** A key ARN, id or alias of the account's own; `alias/aws/...` names an AWS managed key. */
function isCustomerManagedKey(key: unknown): boolean {
  return typeof key === "string" && key !== "" && !/(^|:)alias\/aws\//.test(key);
}

/** What kind of secret `value` (stored under `key`) looks like, or undefined. */
export function secretIn(key: string, value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  for (const [kind, pattern] of SECRET_VALUE_PATTERNS) if (pattern.test(value)) return kind;
  // A secret-sounding name with a literal value; references (ARNs, paths, URLs, names of
  // other resources) are how code should find its secrets, so they pass.
  const reference = /^(arn:|\/|https?:\/\/|\{\{resolve:)/.test(value);
  if (SECRET_NAME_PATTERN.test(key) && !reference && value.length >= 8) return `a literal value under the secret-sounding name ${key}`;
  return undefined;
}
