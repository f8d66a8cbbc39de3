// Who reaches a RestApi's stage and how much: usage plans and their API keys, the WAF web
// ACL, the private endpoint's resource policy, and the account's logging role.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { NAME_LIMITS, physicalName } from "./naming";
import { policyDocument } from "./policy";
import type { RestApiPlan } from "./rest-api-plan";
import type { RestApiWafArgs } from "./rest-api";

/** A private API's resource policy: invocations only through the given VPC endpoints. */
export function privateEndpointPolicy(vpcEndpointIds: pulumi.Input<pulumi.Input<string>[]>): pulumi.Output<string> {
  return pulumi.output(vpcEndpointIds).apply((ids) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Sid: "InvokeThroughEndpoints", Effect: "Allow", Principal: "*", Action: "execute-api:Invoke", Resource: "execute-api:/*" },
        {
          Sid: "DenyOtherSources",
          Effect: "Deny",
          Principal: "*",
          Action: "execute-api:Invoke",
          Resource: "execute-api:/*",
          Condition: { StringNotEquals: { "aws:SourceVpce": ids } },
        },
      ],
    }),
  );
}

/** The usage plans on the stage, each key once, and one membership per plan and key. */
export function createUsagePlans(
  name: string,
  plan: RestApiPlan,
  restApi: aws.apigateway.RestApi,
  stage: aws.apigateway.Stage,
  parent: pulumi.Resource,
): { usagePlans: Record<string, aws.apigateway.UsagePlan>; keys: Record<string, aws.apigateway.ApiKey>; usagePlanKeys: Record<string, aws.apigateway.UsagePlanKey> } {
  const usagePlans: Record<string, aws.apigateway.UsagePlan> = {};
  for (const [planName, args] of Object.entries(plan.usagePlans)) {
    usagePlans[planName] = new aws.apigateway.UsagePlan(`${name}-plan-${planName}`, {
      name: physicalName(`${name}-${planName}`, NAME_LIMITS.restApi),
      apiStages: [{ apiId: restApi.id, stage: stage.stageName }],
      throttleSettings: args.throttle && { rateLimit: args.throttle.rateLimit, burstLimit: args.throttle.burstLimit },
      quotaSettings: args.quota && { limit: args.quota.limit, period: args.quota.period, offset: args.quota.offset ?? 0 },
    }, { parent });
  }
  const keys: Record<string, aws.apigateway.ApiKey> = {};
  const usagePlanKeys: Record<string, aws.apigateway.UsagePlanKey> = {};
  for (const [keyName, plans] of Object.entries(plan.apiKeys)) {
    // API Gateway generates the value; it is a secret output of the key.
    keys[keyName] = new aws.apigateway.ApiKey(`${name}-key-${keyName}`, {
      name: physicalName(`${name}-${keyName}`, NAME_LIMITS.restApi),
      description: `API key ${keyName} of ${name}`,
      enabled: true,
    }, { parent });
    for (const planName of plans) {
      usagePlanKeys[`${planName}/${keyName}`] = new aws.apigateway.UsagePlanKey(`${name}-plan-${planName}-key-${keyName}`, {
        keyId: keys[keyName].id,
        keyType: "API_KEY",
        usagePlanId: usagePlans[planName].id,
      }, { parent });
    }
  }
  return { usagePlans, keys, usagePlanKeys };
}

/** The keys' values by name, as one secret. */
export function apiKeyValues(keys: Record<string, aws.apigateway.ApiKey>): pulumi.Output<Record<string, string>> {
  return pulumi.secret(pulumi.all(Object.fromEntries(Object.entries(keys).map(([keyName, key]) => [keyName, key.value]))));
}

/** The stage's web ACL: the given one, or a REGIONAL one blocking a client IP above `rateLimitPerIp` per 5 minutes. */
export function createWaf(
  name: string,
  waf: RestApiWafArgs,
  stage: aws.apigateway.Stage,
  parent: pulumi.Resource,
): { webAcl?: aws.wafv2.WebAcl; association: aws.wafv2.WebAclAssociation } {
  let webAcl: aws.wafv2.WebAcl | undefined;
  if (waf.rateLimitPerIp !== undefined) {
    const metricName = physicalName(name, NAME_LIMITS.webAcl);
    webAcl = new aws.wafv2.WebAcl(`${name}-waf`, {
      name: metricName,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      rules: [{
        name: "rate-per-ip",
        priority: 0,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: waf.rateLimitPerIp, aggregateKeyType: "IP", evaluationWindowSec: 300 } },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: `${metricName}-rate-per-ip`, sampledRequestsEnabled: true },
      }],
      visibilityConfig: { cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true },
    }, { parent });
  }
  const association = new aws.wafv2.WebAclAssociation(`${name}-waf-association`, {
    resourceArn: stage.arn,
    webAclArn: webAcl ? webAcl.arn : waf.webAclArn!,
  }, { parent });
  return { webAcl, association };
}

/**
 * The role API Gateway writes CloudWatch logs with, set as the account's (one setting per
 * account and Region, which REST access logs need). Least privilege: log groups and
 * streams of this account and Region only.
 */
export function restAccountLogging(name: string, parent: pulumi.Resource): { account: aws.apigateway.Account; role: aws.iam.Role } {
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  const region = aws.getRegionOutput({}, { parent }).region;
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  const role = new aws.iam.Role(`${name}-apigateway-logs`, {
    name: physicalName(`${name}-apigateway-logs`, NAME_LIMITS.iamRole),
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
  }, { parent });
  const rolePolicy = new aws.iam.RolePolicy(`${name}-apigateway-logs`, {
    role: role.id,
    policy: policyDocument([{
      sid: "WriteLogs",
      actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
      resources: [pulumi.interpolate`arn:${partition}:logs:${region}:${account}:log-group:*`],
    }]),
  }, { parent });
  // Through the policy's role, so the account is set only once the role may write.
  const accountSetting = new aws.apigateway.Account(`${name}-account`, {
    cloudwatchRoleArn: pulumi.all([role.arn, rolePolicy.id]).apply(([arn]) => arn),
  }, { parent });
  return { account: accountSetting, role };
}
