/**
 * The one model of a stack's resource graph that the policy pack and the review tools
 * (tools/diagram.ts, through tools/policy-check.ts's view of the recorded resources) read:
 * resources by type and ARN, the references AWS resources use for each other (function
 * names and ARNs with qualifiers, role statements, alarm dimensions), the component each
 * resource belongs to, and who invokes a function and how. It reads only `type`, `name`,
 * `urn`, `props` and `parent`, as stack validation gives them, so it imports nothing.
 */
import type { PolicyResource } from "@pulumi/policy";

export const TYPES = {
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  function: "aws:lambda/function:Function",
  alias: "aws:lambda/alias:Alias",
  permission: "aws:lambda/permission:Permission",
  provisionedConcurrency: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
  eventInvokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  eventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  schedule: "aws:scheduler/schedule:Schedule",
  api: "aws:apigatewayv2/api:Api",
  stage: "aws:apigatewayv2/stage:Stage",
  route: "aws:apigatewayv2/route:Route",
  integration: "aws:apigatewayv2/integration:Integration",
  authorizer: "aws:apigatewayv2/authorizer:Authorizer",
  restStage: "aws:apigateway/stage:Stage",
  restMethod: "aws:apigateway/method:Method",
  restApi: "aws:apigateway/restApi:RestApi",
  restResource: "aws:apigateway/resource:Resource",
  restIntegration: "aws:apigateway/integration:Integration",
  restAuthorizer: "aws:apigateway/authorizer:Authorizer",
  restMethodSettings: "aws:apigateway/methodSettings:MethodSettings",
  restRequestValidator: "aws:apigateway/requestValidator:RequestValidator",
  restUsagePlan: "aws:apigateway/usagePlan:UsagePlan",
  restApiKey: "aws:apigateway/apiKey:ApiKey",
  restUsagePlanKey: "aws:apigateway/usagePlanKey:UsagePlanKey",
  restBasePathMapping: "aws:apigateway/basePathMapping:BasePathMapping",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  webAclAssociation: "aws:wafv2/webAclAssociation:WebAclAssociation",
  domainName: "aws:apigatewayv2/domainName:DomainName",
  apiMapping: "aws:apigatewayv2/apiMapping:ApiMapping",
  restDomainName: "aws:apigateway/domainName:DomainName",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  redrivePolicy: "aws:sqs/redrivePolicy:RedrivePolicy",
  topic: "aws:sns/topic:Topic",
  topicSubscription: "aws:sns/topicSubscription:TopicSubscription",
  bucket: "aws:s3/bucket:Bucket",
  bucketNotification: "aws:s3/bucketNotification:BucketNotification",
  kinesisStream: "aws:kinesis/stream:Stream",
  parameter: "aws:ssm/parameter:Parameter",
  table: "aws:dynamodb/table:Table",
  userPool: "aws:cognito/userPool:UserPool",
  kmsKey: "aws:kms/key:Key",
  vpc: "awsx:ec2:Vpc",
  vpcEndpoint: "aws:ec2/vpcEndpoint:VpcEndpoint",
  ec2Vpc: "aws:ec2/vpc:Vpc",
  flowLog: "aws:ec2/flowLog:FlowLog",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  invocation: "aws:lambda/invocation:Invocation",
  deploymentApplication: "aws:codedeploy/application:Application",
  deploymentGroup: "aws:codedeploy/deploymentGroup:DeploymentGroup",
  deploymentConfig: "aws:codedeploy/deploymentConfig:DeploymentConfig",
} as const;

/** Services that invoke Lambda asynchronously (event invocations, retried, then dropped). */
export const ASYNC_INVOKERS = [
  "s3.amazonaws.com", "sns.amazonaws.com", "events.amazonaws.com", "logs.amazonaws.com", "ses.amazonaws.com",
  "iot.amazonaws.com", "config.amazonaws.com", "codecommit.amazonaws.com", "lambda.alarms.cloudwatch.amazonaws.com",
];

/**
 * The function (or alias) ARN that an API Gateway invoke URI names (a Lambda authorizer's
 * `authorizerUri`): `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`.
 */
export function invokedFunctionArn(uri: unknown): string | undefined {
  return /\/functions\/(.+)\/invocations$/.exec(String(uri ?? ""))?.[1];
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`, or a bare name. */
export function parseFunctionReference(reference: unknown): { name?: string; qualifier?: string } {
  if (typeof reference !== "string") return {};
  const match = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$/.exec(reference);
  if (match) return { name: match[1], qualifier: match[2] };
  // API Gateway's invoke ARN wraps the function ARN.
  const invoke = /\/functions\/(arn:[^/]+)\/invocations$/.exec(reference);
  if (invoke) return parseFunctionReference(invoke[1]);
  return { name: reference };
}

/** The kind of stream an event source ARN names, told from the ARN as AWS writes it. */
export function streamKindOf(arn: unknown): "dynamodb" | "kinesis" | undefined {
  if (typeof arn !== "string") return undefined;
  if (/^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\//.test(arn)) return "dynamodb";
  if (/^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\//.test(arn)) return "kinesis";
  return undefined;
}

const isSqsArn = (arn: unknown) => typeof arn === "string" && /^arn:[^:]+:sqs:/.test(arn);

/**
 * An event source mapping that polls a stream: its ARN says so, or, while the ARN is still
 * unknown in a preview, it sets a starting position (streams require one, queues refuse it).
 */
export function isStreamMapping(props: Record<string, any>): boolean {
  return streamKindOf(props.eventSourceArn) !== undefined || (props.startingPosition !== undefined && !isSqsArn(props.eventSourceArn));
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const asList = (value: unknown): any[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

/** The statements of a policy document given as JSON text or as an object. */
export function statementsOf(document: unknown): Statement[] {
  if (document === undefined || document === null || document === "") return [];
  const parsed = typeof document === "string" ? JSON.parse(document) : document;
  return asList(parsed.Statement).map((s: any) => ({
    ...s,
    Action: s.Action === undefined ? undefined : asList(s.Action),
    NotAction: s.NotAction === undefined ? undefined : asList(s.NotAction),
    Resource: s.Resource === undefined ? undefined : asList(s.Resource),
  }));
}

/** A qualifier as Lambda applies per-qualifier settings: no qualifier is `$LATEST`. */
export const qualifierKey = (qualifier: unknown) => (qualifier === undefined || qualifier === null || qualifier === "" ? "$LATEST" : String(qualifier));

/** One way a function is invoked asynchronously: by whom, on which qualifier. */
export interface AsyncInvocation {
  function: PolicyResource;
  /** The qualifier invoked; undefined for the unqualified function. */
  qualifier?: string;
  /** The resource that invokes (a subscription, target, schedule, notification or permission). */
  source: PolicyResource;
  /** "SNS subscription <name>", for messages. */
  by: string;
}

/** A CodeDeploy Lambda lifecycle hook: the event and the hook function. */
export interface DeploymentHook {
  event: "BeforeAllowTraffic" | "AfterAllowTraffic";
  /** The function's physical name, as the AppSpec names it (unknown in a first preview). */
  functionName?: string;
  function?: PolicyResource;
}

/**
 * One function's safe deployment, as the component library wires it: an
 * `aws.lambda.Invocation` of a runner function whose input (a DeploymentRequest) names the
 * CodeDeploy application and group, the function, its alias and the hook functions.
 */
export interface Deployment {
  invocation: PolicyResource;
  /** The function that runs the deployments (what the Invocation invokes). */
  runner?: PolicyResource;
  /** The function deployed, and the alias CodeDeploy shifts. */
  function?: PolicyResource;
  alias?: PolicyResource;
  /** The version being deployed, when known. */
  targetVersion?: string;
  group?: PolicyResource;
  /** The group's deployment config name, and the config resource when it is a custom one. */
  configName?: string;
  config?: PolicyResource;
  hooks: DeploymentHook[];
}

/** How a CodeDeploy Lambda config shifts traffic, parsed. */
export type TrafficShift = { type: "AllAtOnce" } | { type: "Canary" | "Linear"; percentage: number; minutes: number };

/** CodeDeploy's predefined Lambda config names: `CodeDeployDefault.LambdaCanary10Percent5Minutes`, `...LambdaLinear10PercentEvery1Minute`. */
const PREDEFINED_CONFIG = /^CodeDeployDefault\.Lambda(?:(AllAtOnce)|(Canary)(\d+)Percent(\d+)Minutes?|(Linear)(\d+)PercentEvery(\d+)Minutes?)$/;

/** The traffic shift of a config: from its name when predefined, else from the config resource's routing. */
export function trafficShiftOf(configName: unknown, config?: PolicyResource): TrafficShift | undefined {
  const routing = config?.props.trafficRoutingConfig;
  if (routing?.type === "TimeBasedCanary" && routing.timeBasedCanary) return { type: "Canary", percentage: routing.timeBasedCanary.percentage, minutes: routing.timeBasedCanary.interval };
  if (routing?.type === "TimeBasedLinear" && routing.timeBasedLinear) return { type: "Linear", percentage: routing.timeBasedLinear.percentage, minutes: routing.timeBasedLinear.interval };
  if (routing?.type === "AllAtOnce") return { type: "AllAtOnce" };
  const match = PREDEFINED_CONFIG.exec(String(configName ?? ""));
  if (!match) return undefined;
  if (match[1]) return { type: "AllAtOnce" };
  return match[2] ? { type: "Canary", percentage: Number(match[3]), minutes: Number(match[4]) } : { type: "Linear", percentage: Number(match[6]), minutes: Number(match[7]) };
}

/** "canary 10% for 5 min", "linear 10% every 1 min", "all at once". */
export function describeTrafficShift(shift: TrafficShift | undefined): string {
  if (!shift) return "unknown strategy";
  if (shift.type === "AllAtOnce") return "all at once";
  return shift.type === "Canary" ? `canary ${shift.percentage}% for ${shift.minutes} min` : `linear ${shift.percentage}% every ${shift.minutes} min`;
}

/** The stack's resources by type, and look-ups by the references AWS resources use. */
export class Graph {
  private readonly byType = new Map<string, PolicyResource[]>();
  private readonly byArn = new Map<string, PolicyResource>();
  /** deployments(), read once: the graph does not change, and rules and tools ask per function. */
  private found?: readonly Deployment[];
  constructor(readonly resources: PolicyResource[]) {
    for (const r of resources) {
      const ofType = this.byType.get(r.type);
      if (ofType) ofType.push(r);
      else this.byType.set(r.type, [r]);
      if (typeof r.props.arn === "string" && !this.byArn.has(r.props.arn)) this.byArn.set(r.props.arn, r);
    }
  }
  of(...types: string[]): PolicyResource[] {
    return types.flatMap((type) => this.byType.get(type) ?? []);
  }
  /** The resource whose ARN this is. */
  withArn(arn: unknown): PolicyResource | undefined {
    return typeof arn === "string" ? this.byArn.get(arn) : undefined;
  }
  /** The function a reference names: a function name, or a function / version / alias ARN. */
  functionFor(reference: unknown): PolicyResource | undefined {
    const { name } = parseFunctionReference(reference);
    return this.of(TYPES.function).find((fn) => fn.props.name === name || fn.props.arn === reference);
  }
  /** The role with this ARN. */
  roleWithArn(arn: unknown): PolicyResource | undefined {
    return this.of(TYPES.role).find((r) => r.props.arn === arn);
  }
  /** The statements of a role's inline policies (its own and its RolePolicy resources). */
  statementsOfRole(role: PolicyResource | undefined): Statement[] {
    if (!role) return [];
    return [
      ...asList(role.props.inlinePolicies).flatMap((p: any) => statementsOf(p.policy)),
      ...this.of(TYPES.rolePolicy).filter((p) => [role.props.id, role.props.name].includes(p.props.role)).flatMap((p) => statementsOf(p.props.policy)),
    ];
  }
  /** The statements of a function's execution role. */
  roleStatementsOf(fn: PolicyResource): Statement[] {
    return this.statementsOfRole(this.roleWithArn(fn.props.role));
  }
  /** The alarms whose dimension `key` is `value` (FunctionName, QueueName, ...). */
  alarmsOn(key: string, value: unknown): PolicyResource[] {
    return this.of(TYPES.alarm).filter((a) => value !== undefined && a.props.dimensions?.[key] === value);
  }
  /** The path of a REST API's resource (`/orders/{id}`), from its chain of parents; undefined while unknown. */
  restPathOf(restApiId: unknown, resourceId: unknown): string | undefined {
    const restApi = this.of(TYPES.restApi).find((a) => a.props.id === restApiId);
    const parts: string[] = [];
    for (let id = resourceId, depth = 0; depth < 100; depth++) {
      if (restApi && id === restApi.props.rootResourceId) return `/${parts.reverse().join("/")}`;
      const resource = this.of(TYPES.restResource).find((r) => r.props.id !== undefined && r.props.id === id);
      if (!resource) return undefined;
      parts.push(resource.props.pathPart);
      id = resource.props.parentId;
    }
    return undefined;
  }
  /** The outermost component a resource belongs to (below the stack), if any. */
  componentOf(resource: PolicyResource): PolicyResource | undefined {
    let component: PolicyResource | undefined;
    for (let at = resource.parent; at && at.type !== "pulumi:pulumi:Stack"; at = at.parent) component = at;
    return component;
  }
  /**
   * The ARN of what invokes through `source`: a subscription's topic, a target's rule, a
   * notification's bucket (a bucket's ARN is `arn:<partition>:s3:::<name>`).
   */
  invokerArnOf(source: PolicyResource): string | undefined {
    const p = source.props;
    if (source.type === TYPES.topicSubscription) return p.topic;
    if (source.type === TYPES.eventTarget) {
      return this.of(TYPES.eventRule).find((r) => r.props.name === p.rule && (r.props.eventBusName ?? "default") === (p.eventBusName ?? "default"))?.props.arn;
    }
    if (source.type === TYPES.bucketNotification) return this.of(TYPES.bucket).find((b) => [b.props.id, b.props.bucket].includes(p.bucket))?.props.arn;
    return undefined;
  }
  /** The event invoke config that governs `qualifier` of `fn` (Lambda keeps one per qualifier). */
  eventInvokeConfigFor(fn: PolicyResource, qualifier: string | undefined): PolicyResource | undefined {
    return this.of(TYPES.eventInvokeConfig).find((c) =>
      this.functionFor(c.props.functionName) === fn &&
      qualifierKey(c.props.qualifier ?? parseFunctionReference(c.props.functionName).qualifier) === qualifierKey(qualifier));
  }
  /** Every asynchronous invocation of a function of this stack, one per source and qualifier. */
  asyncInvocations(): AsyncInvocation[] {
    const found: AsyncInvocation[] = [];
    const note = (reference: unknown, source: PolicyResource, by: string, qualifier = parseFunctionReference(reference).qualifier) => {
      const fn = this.functionFor(reference);
      if (fn) found.push({ function: fn, qualifier, source, by });
    };
    for (const p of this.of(TYPES.permission)) {
      if (ASYNC_INVOKERS.includes(p.props.principal)) note(p.props.function, p, p.props.principal, p.props.qualifier ?? parseFunctionReference(p.props.function).qualifier);
    }
    for (const s of this.of(TYPES.topicSubscription)) if (s.props.protocol === "lambda") note(s.props.endpoint, s, `SNS subscription ${s.name}`);
    for (const n of this.of(TYPES.bucketNotification)) for (const f of asList(n.props.lambdaFunctions)) note(f.lambdaFunctionArn, n, `S3 notification ${n.name}`);
    for (const t of this.of(TYPES.eventTarget)) note(t.props.arn, t, `EventBridge target ${t.name}`);
    for (const s of this.of(TYPES.schedule)) note(s.props.target?.arn, s, `Scheduler schedule ${s.name}`);
    return found;
  }
  /**
   * ARNs that receive what failed elsewhere: queues' redrive targets, stream mappings' and
   * event invoke configs' on-failure destinations, EventBridge targets' and schedules'
   * dead-letter queues, SNS subscriptions' redrive targets, functions' dead-letter configs.
   */
  failureDestinations(): Set<string> {
    const redrives = [
      ...this.of(TYPES.queue).map((q) => q.props.redrivePolicy),
      ...this.of(TYPES.redrivePolicy).map((r) => r.props.redrivePolicy),
      ...this.of(TYPES.topicSubscription).map((s) => s.props.redrivePolicy),
    ].filter(Boolean).map((text) => (typeof text === "string" ? JSON.parse(text) : text).deadLetterTargetArn);
    return new Set([
      ...redrives,
      ...this.of(TYPES.eventSourceMapping).map((m) => m.props.destinationConfig?.onFailure?.destinationArn),
      ...this.of(TYPES.eventInvokeConfig).map((c) => c.props.destinationConfig?.onFailure?.destination),
      ...this.of(TYPES.eventTarget).map((t) => t.props.deadLetterConfig?.arn),
      ...this.of(TYPES.schedule).map((s) => s.props.target?.deadLetterConfig?.arn),
      ...this.of(TYPES.function).map((fn) => fn.props.deadLetterConfig?.targetArn),
    ].filter((arn): arn is string => typeof arn === "string" && arn !== ""));
  }
  /** The alias of `fn` named `name`. */
  aliasOf(fn: PolicyResource | undefined, name: unknown): PolicyResource | undefined {
    return fn && this.of(TYPES.alias).find((a) => a.props.name === name && this.functionFor(a.props.functionName) === fn);
  }
  /**
   * Every safe deployment: each Invocation whose input is a DeploymentRequest. While that
   * input is unknown (a first preview: the version is not published yet), the group and
   * alias are the Invocation's siblings, as the component creates them side by side.
   */
  deployments(): readonly Deployment[] {
    return (this.found ??= this.findDeployments());
  }
  private findDeployments(): Deployment[] {
    const found: Deployment[] = [];
    for (const invocation of this.of(TYPES.invocation)) {
      let request: Record<string, unknown> | undefined;
      try {
        const parsed = JSON.parse(String(invocation.props.input));
        if (parsed && typeof parsed.deploymentGroupName === "string" && typeof parsed.aliasName === "string") request = parsed;
      } catch {
        // Unknown (or not a deployment's): read the siblings below.
      }
      const siblings = (type: string) => this.of(type).filter((r) => invocation.parent !== undefined && r.parent === invocation.parent);
      if (!request && !(invocation.parent && siblings(TYPES.deploymentGroup).length === 1)) continue;
      const fn = request ? this.functionFor(request.functionName) : undefined;
      const alias = request ? this.aliasOf(fn, request.aliasName) : siblings(TYPES.alias)[0];
      const group = request
        ? this.of(TYPES.deploymentGroup).find((g) => g.props.deploymentGroupName === request!.deploymentGroupName && g.props.appName === request!.applicationName)
        : siblings(TYPES.deploymentGroup)[0];
      const configName = typeof group?.props.deploymentConfigName === "string" ? group.props.deploymentConfigName : undefined;
      const hooks: DeploymentHook[] = [];
      for (const [event, key] of [["BeforeAllowTraffic", "beforeTrafficHook"], ["AfterAllowTraffic", "afterTrafficHook"]] as const) {
        const name = request?.[key];
        if (typeof name === "string") hooks.push({ event, functionName: name, function: this.functionFor(name) });
      }
      found.push({
        invocation,
        runner: this.functionFor(invocation.props.functionName),
        function: fn ?? this.functionFor(alias?.props.functionName),
        alias,
        ...(typeof request?.targetVersion === "string" ? { targetVersion: request.targetVersion } : {}),
        group,
        configName,
        config: this.of(TYPES.deploymentConfig).find((c) => configName !== undefined && c.props.deploymentConfigName === configName),
        hooks,
      });
    }
    return found;
  }
  /** The functions that run deployments rather than the application: runners and hooks. */
  deploymentMachinery(): Set<PolicyResource> {
    return new Set(this.deployments().flatMap((d) => [d.runner, ...d.hooks.map((h) => h.function)]).filter((fn): fn is PolicyResource => fn !== undefined));
  }
}

/** An IAM pattern (`*` any run of characters, `?` one) as a regular expression. */
export function iamPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\/]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}
