import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
// The ec2 module alone: the package root also loads awsx's ECS, load balancer and classic
// modules (Docker included), which cost every evaluation of this program time for nothing.
import { Vpc } from "@pulumi/awsx/ec2";
import { physicalName } from "../components/naming";

/** Services the functions call, reached through interface endpoints (DynamoDB has a gateway one). */
export const INTERFACE_ENDPOINT_SERVICES = ["sqs", "ssm", "xray"] as const;
export type EndpointService = (typeof INTERFACE_ENDPOINT_SERVICES)[number] | "dynamodb";

const VPC_CIDR = "10.20.0.0/16";

/** Where the endpoint policies are: the account and the stack whose resources they allow. */
export interface EndpointScope {
  partition: string;
  region: string;
  account: string;
  project: string;
  stack: string;
}

/** The actions the functions call through each endpoint. */
export const ENDPOINT_ACTIONS: Record<EndpointService, readonly string[]> = {
  dynamodb: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem", "dynamodb:TransactGetItems", "dynamodb:TransactWriteItems", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"],
  sqs: ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
  ssm: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
  xray: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
};

/**
 * An endpoint's policy: this account's principals, the functions' actions, on this stack's
 * resources only (tables and queues named `<project>-<stack>-*`, parameters under
 * `/<project>/<stack>/`; X-Ray's actions have no resource level). A function's credentials,
 * stolen or misused, cannot reach another stack's or account's resources over this network,
 * whatever a role allows.
 */
export function endpointPolicy(service: EndpointService, scope: EndpointScope): string {
  const arn = (resource: string) => `arn:${scope.partition}:${service}:${scope.region}:${scope.account}:${resource}`;
  const prefix = `${scope.project}-${scope.stack}`;
  const resources: Record<EndpointService, string[]> = {
    dynamodb: [arn(`table/${prefix}-*`)],
    sqs: [arn(`${prefix}-*`)],
    ssm: [arn(`parameter/${scope.project}/${scope.stack}/*`)],
    xray: ["*"],
  };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{
      Sid: "ThisStacksResources",
      Effect: "Allow",
      Principal: "*",
      Action: ENDPOINT_ACTIONS[service],
      Resource: resources[service],
      Condition: { StringEquals: { "aws:PrincipalAccount": scope.account } },
    }],
  });
}

export interface FlowLogArgs {
  /** Retention of the flow log group, in days. */
  retentionDays: number;
  /** The customer-managed key that encrypts the flow log group; unset: CloudWatch Logs' own encryption. */
  kmsKeyArn?: pulumi.Input<string>;
}

export interface PrivateNetwork {
  vpc: Vpc;
  functionSecurityGroup: aws.ec2.SecurityGroup;
  endpointSecurityGroup: aws.ec2.SecurityGroup;
  endpoints: aws.ec2.VpcEndpoint[];
  flowLog: aws.ec2.FlowLog;
  /** Where functions run: the isolated subnets, one per availability zone. */
  subnetIds: pulumi.Output<string[]>;
}

/**
 * An awsx VPC whose isolated subnets reach AWS only through VPC endpoints: no NAT gateway (about
 * $32 a month per zone saved) and no route to the internet.
 */
export function createPrivateNetwork(name: string, flowLogs: FlowLogArgs): PrivateNetwork {
  const region = aws.getRegionOutput().region;
  const scope = pulumi.all([aws.getPartitionOutput().partition, region, aws.getCallerIdentityOutput().accountId]).apply(
    ([partition, region, account]): EndpointScope => ({ partition, region, account, project: pulumi.getProject(), stack: pulumi.getStack() }));
  const vpc = new Vpc(name, {
    cidrBlock: VPC_CIDR,
    numberOfAvailabilityZones: 2,
    natGateways: { strategy: "None" },
    subnetStrategy: "Auto",
    subnetSpecs: [{ type: "Isolated", name: "functions", cidrMask: 22 }],
    enableDnsHostnames: true,
    enableDnsSupport: true,
  });

  const routeTableIds = aws.ec2.getRouteTablesOutput({ vpcId: vpc.vpcId }).ids;
  const dynamodbEndpoint = new aws.ec2.VpcEndpoint(`${name}-dynamodb`, {
    vpcId: vpc.vpcId,
    serviceName: pulumi.interpolate`com.amazonaws.${region}.dynamodb`,
    vpcEndpointType: "Gateway",
    routeTableIds,
    policy: scope.apply((s) => endpointPolicy("dynamodb", s)),
  });

  // Out to the endpoints only: the interface endpoints live in the VPC (nothing else listens
  // there) and DynamoDB's gateway is reached through its prefix list. A CIDR rather than the
  // endpoints' group, because that group already refers to this one.
  const functionSecurityGroup = new aws.ec2.SecurityGroup(`${name}-functions`, {
    vpcId: vpc.vpcId,
    description: "Lambda functions: HTTPS out to the VPC endpoints only (no NAT, no internet route)",
    egress: [
      { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [VPC_CIDR], description: "HTTPS to the interface endpoints" },
      { protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [dynamodbEndpoint.prefixListId], description: "HTTPS to the DynamoDB gateway endpoint" },
    ],
  });
  const endpointSecurityGroup = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
    vpcId: vpc.vpcId,
    description: "Interface endpoints: HTTPS in from the functions",
    ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [functionSecurityGroup.id], description: "HTTPS from the functions" }],
  });

  const endpoints = [
    dynamodbEndpoint,
    ...INTERFACE_ENDPOINT_SERVICES.map((service) =>
      new aws.ec2.VpcEndpoint(`${name}-${service}`, {
        vpcId: vpc.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: vpc.isolatedSubnetIds,
        securityGroupIds: [endpointSecurityGroup.id],
        policy: scope.apply((s) => endpointPolicy(service, s)),
      })),
  ];
  const flowLog = createFlowLog(name, vpc, scope, flowLogs);
  return { vpc, functionSecurityGroup, endpointSecurityGroup, endpoints, flowLog, subnetIds: vpc.isolatedSubnetIds };
}

/**
 * Every accepted and rejected connection of the VPC, to a log group with retention, written
 * by a role of its own that may write to that group only.
 */
function createFlowLog(name: string, vpc: Vpc, scope: pulumi.Output<EndpointScope>, args: FlowLogArgs): aws.ec2.FlowLog {
  const logGroup = new aws.cloudwatch.LogGroup(`${name}-flow-logs`, {
    name: `/vpc/${physicalName(`${name}-flow-logs`, 400)}`,
    retentionInDays: args.retentionDays,
    kmsKeyId: args.kmsKeyArn,
  });
  const role = new aws.iam.Role(`${name}-flow-logs`, {
    name: physicalName(`${name}-flow-logs`, 64),
    description: "Lets VPC Flow Logs write this VPC's flow log group",
    assumeRolePolicy: scope.apply((s) => JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": s.account } },
      }],
    })),
    inlinePolicies: [{
      name: "write-flow-logs",
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
        }],
      }),
    }],
  });
  return new aws.ec2.FlowLog(`${name}-flow-log`, {
    vpcId: vpc.vpcId,
    trafficType: "ALL",
    logDestinationType: "cloud-watch-logs",
    logDestination: logGroup.arn,
    iamRoleArn: role.arn,
    maxAggregationInterval: 60,
  });
}
