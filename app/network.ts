import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
// The ec2 module alone: the package root also loads awsx's ECS, load balancer and classic
// modules (Docker included), which cost every evaluation of this program time for nothing.
import { Vpc } from "@pulumi/awsx/ec2";

/** Services the functions call, reached through interface endpoints (DynamoDB has a gateway one). */
export const INTERFACE_ENDPOINT_SERVICES = ["sqs", "ssm", "xray"] as const;

export interface PrivateNetwork {
  vpc: Vpc;
  functionSecurityGroup: aws.ec2.SecurityGroup;
  endpointSecurityGroup: aws.ec2.SecurityGroup;
  endpoints: aws.ec2.VpcEndpoint[];
  /** Where functions run: the isolated subnets, one per availability zone. */
  subnetIds: pulumi.Output<string[]>;
}

/**
 * An awsx VPC whose isolated subnets reach AWS only through VPC endpoints: no NAT gateway (about
 * $32 a month per zone saved) and no route to the internet.
 */
export function createPrivateNetwork(name: string): PrivateNetwork {
  const region = aws.getRegionOutput().region;
  const vpc = new Vpc(name, {
    cidrBlock: "10.20.0.0/16",
    numberOfAvailabilityZones: 2,
    natGateways: { strategy: "None" },
    subnetStrategy: "Auto",
    subnetSpecs: [{ type: "Isolated", name: "functions", cidrMask: 22 }],
    enableDnsHostnames: true,
    enableDnsSupport: true,
  });

  const functionSecurityGroup = new aws.ec2.SecurityGroup(`${name}-functions`, {
    vpcId: vpc.vpcId,
    description: "Lambda functions: HTTPS out to the VPC endpoints only (no NAT, no internet route)",
    egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], description: "HTTPS to VPC endpoints and the DynamoDB gateway" }],
  });
  const endpointSecurityGroup = new aws.ec2.SecurityGroup(`${name}-endpoints`, {
    vpcId: vpc.vpcId,
    description: "Interface endpoints: HTTPS in from the functions",
    ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [functionSecurityGroup.id], description: "HTTPS from the functions" }],
  });

  const routeTableIds = aws.ec2.getRouteTablesOutput({ vpcId: vpc.vpcId }).ids;
  const endpoints = [
    new aws.ec2.VpcEndpoint(`${name}-dynamodb`, {
      vpcId: vpc.vpcId,
      serviceName: pulumi.interpolate`com.amazonaws.${region}.dynamodb`,
      vpcEndpointType: "Gateway",
      routeTableIds,
    }),
    ...INTERFACE_ENDPOINT_SERVICES.map((service) =>
      new aws.ec2.VpcEndpoint(`${name}-${service}`, {
        vpcId: vpc.vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: vpc.isolatedSubnetIds,
        securityGroupIds: [endpointSecurityGroup.id],
      })),
  ];
  return { vpc, functionSecurityGroup, endpointSecurityGroup, endpoints, subnetIds: vpc.isolatedSubnetIds };
}
