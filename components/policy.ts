import * as pulumi from "@pulumi/pulumi";
import { ProblemCollector } from "./validation";

/** An IAM statement that allows `actions` on `resources`. */
export interface PermissionStatement {
  /** IAM actions such as `dynamodb:GetItem`; `*` and `service:*` are refused. */
  actions: string[];
  /** Resource ARNs the actions apply to; a bare `*` is refused. */
  resources: pulumi.Input<string>[];
}

/** A statement with its resources resolved, ready for a policy document. */
interface ResolvedStatement {
  Sid?: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
}

/**
 * Actions that AWS does not scope to a resource, so `*` is their only resource: X-Ray
 * segment uploads and the network-interface calls Lambda makes to join a VPC.
 */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL: readonly string[] = [
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

const ACTION_PATTERN = /^[a-z0-9-]+:[A-Za-z0-9]+\*?$/;

/** Reports every statement that is not least privilege. */
export function checkPermissions(path: string, statements: readonly PermissionStatement[], problems: ProblemCollector): void {
  statements.forEach((statement, index) => {
    const at = `${path}[${index}]`;
    if (!Array.isArray(statement.actions) || statement.actions.length === 0) {
      problems.add(`${at}.actions`, "is empty; name each action, e.g. \"dynamodb:GetItem\".");
    } else {
      for (const action of statement.actions) {
        if (action === "*" || /^[^:]+:\*$/.test(action)) {
          problems.add(`${at}.actions`, `${JSON.stringify(action)} grants every action; list the actions the function calls, e.g. "dynamodb:GetItem".`);
        } else if (!ACTION_PATTERN.test(action)) {
          problems.add(`${at}.actions`, `${JSON.stringify(action)} is not an IAM action; write "service:Action", e.g. "sqs:SendMessage".`);
        }
      }
    }
    if (!Array.isArray(statement.resources) || statement.resources.length === 0) {
      problems.add(`${at}.resources`, "is empty; name the ARNs the actions apply to.");
    } else {
      const problem = statement.resources.map((resource) => (typeof resource === "string" ? wildcardResourceProblem(resource) : undefined)).find(Boolean);
      if (problem) problems.add(`${at}.resources`, problem);
    }
  });
}

/** Why a statement's resource is not least privilege (a bare `*`), or undefined. */
export function wildcardResourceProblem(resource: string): string | undefined {
  return resource === "*" ? `"*" grants the actions on every resource; name the ARNs, e.g. table.arn.` : undefined;
}

/** A policy document (JSON) of `statements`, resolved once all their resources are known. */
export function policyDocument(statements: readonly (PermissionStatement & { sid?: string })[]): pulumi.Output<string> {
  return pulumi
    .all(statements.map((statement) => pulumi.all(statement.resources)))
    .apply((resolved) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: statements.map((statement, index): ResolvedStatement => ({
          ...(statement.sid ? { Sid: statement.sid } : {}),
          Effect: "Allow",
          Action: [...statement.actions],
          Resource: resolved[index],
        })),
      }),
    );
}

/** The trust policy that lets Lambda assume a function's role. */
export const LAMBDA_ASSUME_ROLE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** An AWS service that may send to a queue, on behalf of the named resources only. */
export interface QueueSender {
  /** The statement's Sid, e.g. `EventBridgeRules`. */
  sid: string;
  /** The service principal, e.g. `events.amazonaws.com`. */
  service: string;
  /** The resources (rules, ...) the service sends for, matched against `aws:SourceArn`. */
  sourceArns: pulumi.Input<string>[];
}

/**
 * A queue policy that refuses every request not made over TLS and, when `senders` are
 * given, lets each service send messages on behalf of its source resources only.
 */
export function tlsOnlyQueuePolicy(queueArn: pulumi.Input<string>, senders: readonly QueueSender[] = []): pulumi.Output<string> {
  return pulumi.all([pulumi.output(queueArn), pulumi.all(senders.map((sender) => pulumi.all(sender.sourceArns)))]).apply(([arn, sourceArns]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "sqs:*",
          Resource: arn,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        ...senders.map((sender, index) => ({
          Sid: sender.sid,
          Effect: "Allow",
          Principal: { Service: sender.service },
          Action: "sqs:SendMessage",
          Resource: arn,
          Condition: { ArnEquals: { "aws:SourceArn": sourceArns[index] } },
        })),
      ],
    }),
  );
}
