import * as pulumi from "@pulumi/pulumi";
import { TAG_LIMITS } from "./limits";
import { ProblemCollector } from "./validation";

/** The `tags` argument every component takes. */
export interface TaggableArgs {
  /**
   * Tags for every taggable resource the component creates, and the components inside it
   * (e.g. a ServerlessApi's functions), beside `project`, `stack` and `component`, which the
   * library sets itself. A tag a nested component or a resource sets itself wins over these.
   * Keys 1-128 and values 0-256 characters (letters, digits, spaces, `_.:/=+-@`), no `aws:`
   * prefix, at most 50 tags per resource with the library's and the `aws:defaultTags` of the stack.
   * @default {}
   */
  tags?: Record<string, pulumi.Input<string>>;
}

/**
 * The keys the library sets on every taggable resource, for cost allocation: the Pulumi
 * project and stack, and the component the resource belongs to as `<type>/<name>` (the
 * outermost component: `ServerlessApi/orders-api` for the API's functions too; a resource
 * outside any component is its own, e.g. `dynamodb.Table/orders`).
 */
export const LIBRARY_TAG_KEYS = ["project", "stack", "component"] as const;

/**
 * The resource types whose inputs take `tags`: only these are tagged. Pinned to @pulumi/aws
 * by test/components/tags.test.ts (each entry's args declare `tags`, and every type the
 * program registers that does is listed); policy/rules.ts keeps a copy, pinned to this one.
 * It names the types the library, the orders program and the components under way
 * (CodeDeploy, RestApi, WAF, custom domains) create.
 */
export const TAGGABLE_TYPES: ReadonlySet<string> = new Set([
  "aws:lambda/function:Function",
  "aws:lambda/eventSourceMapping:EventSourceMapping",
  "aws:iam/role:Role",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:apigatewayv2/api:Api",
  "aws:apigatewayv2/stage:Stage",
  "aws:apigatewayv2/domainName:DomainName",
  "aws:apigateway/restApi:RestApi",
  "aws:apigateway/stage:Stage",
  "aws:apigateway/usagePlan:UsagePlan",
  "aws:apigateway/apiKey:ApiKey",
  "aws:apigateway/domainName:DomainName",
  "aws:wafv2/webAcl:WebAcl",
  "aws:acm/certificate:Certificate",
  "aws:codedeploy/application:Application",
  "aws:codedeploy/deploymentGroup:DeploymentGroup",
  "aws:sqs/queue:Queue",
  "aws:sns/topic:Topic",
  "aws:s3/bucket:Bucket",
  "aws:kinesis/stream:Stream",
  "aws:ssm/parameter:Parameter",
  "aws:dynamodb/table:Table",
  "aws:cognito/userPool:UserPool",
  "aws:kms/key:Key",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/flowLog:FlowLog",
  "awsx:ec2:Vpc",
]);

type Tags = Record<string, pulumi.Input<string>>;

/** The stack's `aws:defaultTags`, which the AWS provider adds to every resource it tags. */
export function providerDefaultTags(): Record<string, string> {
  return new pulumi.Config("aws").getObject<{ tags?: Record<string, string> }>("defaultTags")?.tags ?? {};
}

/**
 * Checks user tags against AWS's rules and the library's keys, under the path `at`. Values
 * that are Outputs are AWS's to check once they resolve.
 */
export function checkTags(at: string, tags: Tags | undefined, problems: ProblemCollector): void {
  if (tags === undefined || isPending(tags)) return;
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) {
    problems.add(at, `${JSON.stringify(tags)} is not a map of tag keys to values; write e.g. { team: "orders" }.`);
    return;
  }
  const length = (text: string) => [...text].length;
  const allowed = "letters, digits, spaces and _.:/=+-@";
  for (const [key, value] of Object.entries(tags)) {
    const path = `${at}.${key}`;
    if ((LIBRARY_TAG_KEYS as readonly string[]).includes(key)) {
      problems.add(path, `is set by the library on every taggable resource (project, stack and component); choose another key.`);
    } else if (key.toLowerCase().startsWith(TAG_LIMITS.reservedPrefix)) {
      problems.add(path, `starts with "${TAG_LIMITS.reservedPrefix}", which AWS reserves for its own tags; choose another key.`);
    } else if (length(key) < 1 || length(key) > TAG_LIMITS.keyLength || !TAG_LIMITS.characters.test(key)) {
      problems.add(path, `is not a valid tag key; use 1-${TAG_LIMITS.keyLength} characters: ${allowed}.`);
    }
    if (typeof value === "string" && (length(value) > TAG_LIMITS.valueLength || !TAG_LIMITS.characters.test(value))) {
      problems.add(path, `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)} is not a valid tag value; use 0-${TAG_LIMITS.valueLength} characters: ${allowed}.`);
    } else if (value === undefined || value === null) {
      problems.add(path, `has no value; give a string ("" is allowed) or remove the key.`);
    } else if (typeof value !== "string" && !isPending(value)) {
      problems.add(path, `${JSON.stringify(value)} is not a string; write it as one, e.g. ${JSON.stringify(String(value))}.`);
    }
  }
  const keys = new Set([...LIBRARY_TAG_KEYS, ...Object.keys(providerDefaultTags()), ...Object.keys(tags)]);
  if (keys.size > TAG_LIMITS.perResource) {
    problems.add(at, `gives ${keys.size} tags per resource with the library's ${LIBRARY_TAG_KEYS.length} and the stack's aws:defaultTags, above AWS's ${TAG_LIMITS.perResource}; remove ${keys.size - TAG_LIMITS.perResource}.`);
  }
}

const isPending = (value: unknown) => pulumi.Output.isInstance(value) || value instanceof Promise;

/** `aws:dynamodb/table:Table` -> `dynamodb.Table`; `awsx:ec2:Vpc` -> `ec2.Vpc`. */
function typeLabel(type: string): string {
  const [, module, kind] = type.split(":");
  return `${module.split("/")[0]}.${kind}`;
}

/**
 * A transformation that tags every taggable resource it reaches: `tags` under the tags the
 * resource already has (set by itself or by a nested component's transformation, which
 * runs first), then `project`, `stack` and `component`. With `component` it sets that key
 * (an outer component's runs later, so the outermost wins); without, it keeps the key a
 * component set, or names the resource itself.
 *
 * A legacy transformation on purpose: the SDK applies it in the process that creates the
 * resource (this program, the mocks, or the component provider that other languages use),
 * and children inherit it from their parent. `transforms` would be run by the engine
 * through a callback server, which the mock monitor does not do.
 */
export function tagging(tags: Tags, component?: string): pulumi.ResourceTransformation {
  return ({ type, name, props, opts }) => {
    if (!TAGGABLE_TYPES.has(type)) return undefined;
    const merge = (inherited: Tags, own: Record<string, unknown> | undefined): Tags => ({
      ...inherited,
      ...(own as Tags | undefined),
      project: pulumi.getProject(),
      stack: pulumi.getStack(),
      component: component ?? (typeof own?.component === "string" ? own.component : `${typeLabel(type)}/${name}`),
    });
    const own = props.tags;
    // Either map may be a whole Output (the resource's own, or a component's `tags` from another language).
    const merged = isPending(own) || isPending(tags)
      ? pulumi.all([tags, own]).apply(([inherited, resolved]) => merge(inherited as Tags, resolved as Record<string, unknown> | undefined))
      : merge(tags, own);
    return { props: { ...props, tags: merged }, opts };
  };
}

/**
 * `opts` with the component's tag transformation first (a user's own transformations
 * then see the tags), for the `super(...)` call of every component:
 * `super(type, name, {}, withTags("QueueWorker", name, args.tags, opts))`.
 */
export function withTags(className: string, name: string, tags: Tags | undefined, opts: pulumi.ComponentResourceOptions | undefined): pulumi.ComponentResourceOptions {
  return { ...opts, transformations: [tagging(tags ?? {}, `${className}/${name}`), ...(opts?.transformations ?? [])] };
}
