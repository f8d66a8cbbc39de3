/**
 * Helpers for the component tests, on top of the one shared harness (`test/mocks.ts`).
 * Nothing here talks to an engine of its own: every evaluation goes through `record`.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { PACKAGE_NAME } from "../../components/tokens";
import { ComponentArgumentsError } from "../../components/validation";
import { Evaluation, MOCK_ACCOUNT_ID } from "../../tools/mock-engine";
import { record, RecordedResource, TEST_PROJECT, TEST_STACK, TEST_REGION } from "../mocks";

export { TEST_PROJECT, TEST_STACK, TEST_REGION };
/** The account the mock engine puts in every ARN. */
export const ACCOUNT = MOCK_ACCOUNT_ID;

/** Fixture handlers, relative to the repository root (the working directory of the tests). */
export const HELLO = "test/fixtures/hello.handler";
export const ORDERS_LIST = "test/fixtures/orders.list";
export const ORDERS_GET = "test/fixtures/orders.get";
export const WORKER = "test/fixtures/worker.handler";
export const BROKEN = "test/fixtures/broken.handler";
export const CALLBACK = "test/fixtures/callback/legacy.handler";

export const TYPES = {
  stack: "pulumi:pulumi:Stack",
  secureFunction: "serverless-components:index:SecureFunction",
  serverlessApi: "serverless-components:index:ServerlessApi",
  queueWorker: "serverless-components:index:QueueWorker",
  function: "aws:lambda/function:Function",
  alias: "aws:lambda/alias:Alias",
  provisioned: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
  permission: "aws:lambda/permission:Permission",
  eventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  parameter: "aws:ssm/parameter:Parameter",
  api: "aws:apigatewayv2/api:Api",
  authorizer: "aws:apigatewayv2/authorizer:Authorizer",
  integration: "aws:apigatewayv2/integration:Integration",
  route: "aws:apigatewayv2/route:Route",
  stage: "aws:apigatewayv2/stage:Stage",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
} as const;

/** The tags the library gives every taggable resource of a component (`<Class>/<name>`) in the test stack. */
export function libraryTags(component: string): Record<string, string> {
  return { project: TEST_PROJECT, stack: TEST_STACK, component };
}

/** `<project>-<stack>-<name>` with the test project and stack. */
export function physical(name: string): string {
  return `${TEST_PROJECT}-${TEST_STACK}-${name}`;
}

export function lambdaArn(functionName: string, qualifier?: string): string {
  return `arn:aws:lambda:${TEST_REGION}:${ACCOUNT}:function:${functionName}${qualifier ? `:${qualifier}` : ""}`;
}

export function sqsArn(queueName: string): string {
  return `arn:aws:sqs:${TEST_REGION}:${ACCOUNT}:${queueName}`;
}

export function ssmArn(parameterName: string): string {
  return `arn:aws:ssm:${TEST_REGION}:${ACCOUNT}:parameter${parameterName}`;
}

export function logGroupArn(logGroupName: string): string {
  return `arn:aws:logs:${TEST_REGION}:${ACCOUNT}:log-group:${logGroupName}`;
}

/** The files of a recorded Lambda function's code archive (the archive holds promises). */
export async function archiveFiles(fn: RecordedResource): Promise<Record<string, string>> {
  const archive = fn.inputs.code;
  expect(archive, "code is an AssetArchive").to.be.instanceOf(pulumi.asset.AssetArchive);
  const assets = await (archive as pulumi.asset.AssetArchive).assets;
  const files: Record<string, string> = {};
  for (const [name, asset] of Object.entries(assets)) {
    expect(asset, `${name} is a StringAsset`).to.be.instanceOf(pulumi.asset.StringAsset);
    files[name] = (await (asset as pulumi.asset.StringAsset).text) as string;
  }
  return files;
}

/**
 * Evaluates one component made by `create`, with `outputsOf(component)` as the stack's
 * outputs (so they are resolved in `outputs`); returns the evaluation and the component.
 */
export async function recordComponent<C, O>(
  create: () => C,
  outputsOf: (component: C) => O,
  options?: Parameters<typeof record>[1],
): Promise<Evaluation & { component: C }> {
  let component: C | undefined;
  const evaluation = await record(() => {
    component = create();
    return outputsOf(component);
  }, options);
  return { ...evaluation, component: component! };
}

/** Resources registered below (or at) the resource named `urn`, the stack excluded. */
export function childrenOf(resources: RecordedResource[], parentUrn: string): RecordedResource[] {
  return resources.filter((resource) => resource.parent === parentUrn);
}

/** Everything registered except the root stack. */
export function registeredBesidesStack(resources: RecordedResource[]): RecordedResource[] {
  return resources.filter((resource) => resource.type !== TYPES.stack);
}

/**
 * Runs `build` inside the harness, expecting it to throw; returns the error and what was
 * registered meanwhile (the build swallows the error, so the evaluation itself completes).
 */
export async function recordRefusal(build: () => unknown): Promise<{ error: ComponentArgumentsError; resources: RecordedResource[] }> {
  let thrown: unknown;
  const { resources } = await record(() => {
    try {
      build();
    } catch (error) {
      thrown = error;
    }
  });
  expect(thrown, "the constructor throws").to.be.instanceOf(ComponentArgumentsError);
  return { error: thrown as ComponentArgumentsError, resources };
}

/**
 * Expects `build` to be refused with exactly the problem paths `paths` (in order), each
 * reason matching its pattern, in ONE error, with nothing but the stack registered.
 */
export async function expectRefused(
  build: () => unknown,
  component: string,
  resourceName: string,
  problems: Array<[path: string, reason: RegExp]>,
): Promise<ComponentArgumentsError> {
  const { error, resources } = await recordRefusal(build);
  expect(registeredBesidesStack(resources).map((r) => `${r.type}::${r.name}`), "registered resources").to.deep.equal([]);
  expect(resources.map((r) => r.type)).to.deep.equal([TYPES.stack]);
  expect(error.component).to.equal(component);
  expect(error.resourceName).to.equal(resourceName);
  expect(error.problems.map((p) => p.path), error.message).to.deep.equal(problems.map(([path]) => path));
  problems.forEach(([path, reason], index) => {
    expect(error.problems[index].reason, `reason for ${path}`).to.match(reason);
    expect(error.message).to.include(`  - ${path}: ${error.problems[index].reason}`);
  });
  expect(error.message.startsWith(`${component} "${resourceName}" has invalid arguments:\n`), error.message).to.equal(true);
  return error;
}

/**
 * Evaluates `build`, expecting construction to succeed and the deployment to fail once a
 * value resolves, the way it fails under the real engine: with an unhandled
 * `ResourceError` that the language host reports once, against the component, without a
 * stack. Its message must be exactly the one a construction-time problem gets
 * (`<component> "<name>" has invalid arguments:` and the argument's line), with no
 * `error serializing property` noise. The value never resolves, so the evaluation is left
 * pending. Returns the error.
 */
export async function expectDeploymentFailure(
  build: () => unknown,
  component: string,
  resourceName: string,
  [path, reason]: [path: string, reason: RegExp],
  waitMs = 5000,
): Promise<pulumi.ResourceError> {
  // A Set, as the language host dedupes: mocha re-emits each rejection to the listeners.
  const seen = new Set<unknown>();
  let notify: () => void = () => undefined;
  const listener = (error: unknown) => {
    seen.add(error);
    notify();
  };
  process.on("unhandledRejection", listener);
  let constructed = false;
  try {
    void record(() => {
      build();
      constructed = true;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no deployment failure within ${waitMs} ms`)), waitMs);
      notify = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    // Let any other failure of the same evaluation arrive before we stop listening.
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    process.off("unhandledRejection", listener);
    // The pending evaluation is abandoned on purpose; forget its promises so Pulumi's
    // leak detector does not fail the test process at exit.
    (require("@pulumi/pulumi/runtime/debuggable") as { leakedPromises(): unknown }).leakedPromises();
  }
  expect(constructed, "construction itself succeeds").to.equal(true);
  const messages = [...seen].map((error) => (error instanceof Error ? error.message : String(error)));
  expect(messages, messages.join("\n")).to.have.length(1);
  const error = [...seen][0] as pulumi.ResourceError;
  expect(pulumi.ResourceError.isInstance(error), `a ResourceError, not: ${messages[0]}`).to.equal(true);
  expect(error.hideStack, "reported without a stack").to.equal(true);
  const urn = await new Promise<string>((resolve) => error.resource!.urn.apply(resolve));
  expect(urn, "reported against the component").to.match(new RegExp(`[:$]${PACKAGE_NAME}:index:${component}::${resourceName}$`));
  const [heading, line, ...rest] = error.message.split("\n");
  expect(heading).to.equal(`${component} "${resourceName}" has invalid arguments:`);
  expect(line.startsWith(`  - ${path}: `), line).to.equal(true);
  expect(line.slice(`  - ${path}: `.length)).to.match(reason);
  expect(rest, "one problem").to.deep.equal([]);
  expect(error.message).not.to.match(/error serializing/);
  return error;
}

/**
 * Evaluates `build` as `record` does, and fails when the deployment would fail meanwhile
 * (an unhandled rejection, as {@link expectDeploymentFailure} expects one).
 */
export async function recordWithoutFailure(build: () => unknown, options: Parameters<typeof record>[1] = {}): Promise<Evaluation> {
  const failures = new Set<unknown>();
  const listener = (error: unknown) => failures.add(error);
  process.on("unhandledRejection", listener);
  try {
    const evaluation = await record(build, options);
    // Node reports unhandled rejections once the microtasks drain: wait for the next turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect([...failures].map((error) => (error instanceof Error ? error.message : String(error))), "deployment failures").to.deep.equal([]);
    return evaluation;
  } finally {
    process.off("unhandledRejection", listener);
  }
}

/** The statements of a recorded IAM policy document, by Sid. */
export function statementsBySid(policyResource: RecordedResource): Record<string, { Effect: string; Action: string[]; Resource: string[] }> {
  const document = JSON.parse(policyResource.inputs.policy);
  expect(document.Version).to.equal("2012-10-17");
  const bySid: Record<string, { Effect: string; Action: string[]; Resource: string[] }> = {};
  for (const statement of document.Statement) {
    expect(statement.Sid, "every statement has a Sid").to.be.a("string");
    expect(bySid, `duplicate Sid ${statement.Sid}`).not.to.have.property(statement.Sid);
    const { Sid, ...rest } = statement;
    bySid[Sid] = rest;
  }
  return bySid;
}
