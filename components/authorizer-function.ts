// What the Lambda authorizers of HTTP APIs (lambda-authorizer.ts) and REST APIs
// (rest-authorizer.ts) share: the authorizer's function, a SecureFunction `<api>-authorizer`
// planned with the API, and the permission that lets only that authorizer invoke it.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { prepareFunction, SecureFunction, SecureFunctionArgs } from "./secure-function";
import { ProblemCollector } from "./validation";

/** A checked authorizer function: its child name and its arguments. */
export interface PlannedAuthorizerFunction {
  functionName: string;
  functionArgs: SecureFunctionArgs;
}

/** The function name of an API's authorizer. */
export function authorizerFunctionName(apiName: string): string {
  return `${apiName}-authorizer`;
}

/** Validates and bundles the authorizer function of the API `apiName`, adding its problems under `at`. */
export function planAuthorizerFunction(apiName: string, functionArgs: SecureFunctionArgs, at: string, problems: ProblemCollector): PlannedAuthorizerFunction {
  const functionName = authorizerFunctionName(apiName);
  prepareFunction(functionName, functionArgs, at, problems);
  return { functionName, functionArgs };
}

/** An authorizer's function, the authorizer, and the permission scoped to that authorizer. */
export interface AuthorizerFunctionResources<A> {
  function: SecureFunction;
  authorizer: A;
  /** Lets API Gateway invoke the function (its alias, when there is one) for this authorizer only. */
  permission: aws.lambda.Permission;
}

/**
 * Creates the planned function, the authorizer `createAuthorizer` makes for it, and the
 * permission to invoke it from that authorizer of the API with `executionArn` only.
 */
export function createAuthorizerFunction<A extends { id: pulumi.Output<string> }>(
  planned: PlannedAuthorizerFunction,
  executionArn: pulumi.Output<string>,
  parent: pulumi.Resource,
  createAuthorizer: (fn: SecureFunction) => A,
): AuthorizerFunctionResources<A> {
  const fn = new SecureFunction(planned.functionName, planned.functionArgs, { parent });
  const authorizer = createAuthorizer(fn);
  // API Gateway invokes an authorizer from `<executionArn>/authorizers/<authorizer id>`.
  const permission = new aws.lambda.Permission(`${planned.functionName}-invoke`, {
    action: "lambda:InvokeFunction",
    function: fn.name,
    qualifier: fn.qualifier,
    principal: "apigateway.amazonaws.com",
    sourceArn: pulumi.interpolate`${executionArn}/authorizers/${authorizer.id}`,
  }, { parent });
  return { function: fn, authorizer, permission };
}
