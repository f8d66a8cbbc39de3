import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarm } from "./alarms";
import { ResolvedFunctionArgs } from "./function-args";
import { KMS_READ_ACTIONS } from "./kms";
import { ACTIONS_WITHOUT_RESOURCE_LEVEL, PermissionStatement, wildcardResourceProblem } from "./policy";
import { ResolvedArgumentChecks } from "./validation";

// A SecureFunction's role statements and alarms (secure-function.ts creates the resources).

/** The p99 duration alarm fires at this share of the timeout. */
export const DURATION_ALARM_SHARE_OF_TIMEOUT = 0.8;

/** The role's statements: logs, tracing, its own parameters (and their key), VPC networking, then the user's. */
export function roleStatements(args: ResolvedFunctionArgs, logGroup: aws.cloudwatch.LogGroup, parameters: aws.ssm.Parameter[], kmsKey: pulumi.Input<string> | undefined, checks: ResolvedArgumentChecks) {
  const statements: (PermissionStatement & { sid: string })[] = [
    { sid: "WriteOwnLogs", actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [pulumi.interpolate`${logGroup.arn}:*`] },
  ];
  if (args.tracing) {
    statements.push({ sid: "Tracing", actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] });
  }
  if (parameters.length > 0) {
    // The path's own ARN is the parent of any parameter's ARN under it.
    const pathArn = parameters[0].arn.apply((arn) => arn.slice(0, arn.lastIndexOf("/")));
    statements.push(
      { sid: "ReadOwnParametersByPath", actions: ["ssm:GetParametersByPath"], resources: [pathArn] },
      { sid: "ReadOwnParameters", actions: ["ssm:GetParameter", "ssm:GetParameters"], resources: parameters.map((p) => p.arn) },
    );
  }
  if (kmsKey !== undefined && Object.keys(args.secrets ?? {}).length > 0) {
    statements.push({ sid: "DecryptOwnSecrets", actions: [...KMS_READ_ACTIONS], resources: [kmsKey] });
  }
  if (args.vpc) {
    statements.push({ sid: "VpcNetworkInterfaces", actions: ACTIONS_WITHOUT_RESOURCE_LEVEL.filter((a) => a.startsWith("ec2:")), resources: ["*"] });
  }
  (args.permissions ?? []).forEach((statement, index) => statements.push({
    sid: `Granted${index}`,
    ...statement,
    // A bare "*" given as an Output only shows once it resolves.
    resources: statement.resources.map((resource, position) => typeof resource === "string"
      ? resource
      : checks.checked(`permissions[${index}].resources[${position}]`, resource, wildcardResourceProblem)),
  }));
  return statements;
}

export function createFunctionAlarms(name: string, fn: aws.lambda.Function, args: ResolvedFunctionArgs, parent: pulumi.Resource) {
  const lambdaMetric = { namespace: "AWS/Lambda", dimensions: { FunctionName: fn.name } };
  const actions = args.alarmActions ?? [];
  const durationThresholdMs = Math.round(args.timeout * 1000 * DURATION_ALARM_SHARE_OF_TIMEOUT);
  return [
    createAlarm(`${name}-errors`, {
      ...lambdaMetric,
      description: `${name}: the function reported errors.`,
      metricName: "Errors", statistic: "Sum", period: 60, evaluationPeriods: 1, threshold: 1,
    }, actions, parent),
    createAlarm(`${name}-throttles`, {
      ...lambdaMetric,
      description: `${name}: invocations were throttled (reserved concurrency or account limit reached).`,
      metricName: "Throttles", statistic: "Sum", period: 60, evaluationPeriods: 1, threshold: 1,
    }, actions, parent),
    createAlarm(`${name}-duration`, {
      ...lambdaMetric,
      description: `${name}: p99 duration reached ${DURATION_ALARM_SHARE_OF_TIMEOUT * 100}% of the ${args.timeout} s timeout.`,
      metricName: "Duration", extendedStatistic: "p99", period: 300, evaluationPeriods: 1, threshold: durationThresholdMs,
    }, actions, parent),
  ];
}
