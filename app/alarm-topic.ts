import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { physicalName } from "../components/naming";
import { createCustomerKey } from "./keys";

/**
 * Who may use the alarm topic: this account's alarms publish, the account administers it,
 * and nobody publishes or subscribes without TLS. It replaces SNS's default policy, so
 * CloudWatch's permission is stated here.
 */
export function alarmTopicPolicy(topicArn: pulumi.Input<string>, account: pulumi.Input<string>, partition: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
      {
        Sid: "AccountAdministersTopic",
        Effect: "Allow",
        Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` },
        Action: ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"],
        Resource: topicArn,
      },
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: "*",
        Action: "sns:*",
        Resource: topicArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

/**
 * The SNS topic every alarm notifies, encrypted with a key of its own. CloudWatch cannot
 * publish to a topic under the AWS managed `aws/sns` key (its policy cannot be changed to
 * let CloudWatch in), so alarms on such a topic would fire and notify nobody.
 */
export function createAlarmTopic(name: string, email: string | undefined): aws.sns.Topic {
  const account = aws.getCallerIdentityOutput().accountId;
  const partition = aws.getPartitionOutput().partition;
  const key = createCustomerKey(`${name}-key`, "Encrypts the alarm topic; lets CloudWatch alarms publish to it", (keyAccount) => [{
    Sid: "CloudWatchAlarmsPublish",
    Effect: "Allow",
    Principal: { Service: "cloudwatch.amazonaws.com" },
    Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
    Resource: "*",
    Condition: { StringEquals: { "aws:SourceAccount": keyAccount } },
  }]);
  const topic = new aws.sns.Topic(name, { name: physicalName(name, 256), kmsMasterKeyId: key.arn });
  new aws.sns.TopicPolicy(`${name}-policy`, { arn: topic.arn, policy: alarmTopicPolicy(topic.arn, account, partition) });
  if (email) new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: "email", endpoint: email });
  return topic;
}
