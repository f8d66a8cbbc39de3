import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { KMS_READ_ACTIONS } from "../components/kms";
import { PermissionStatement } from "../components/policy";

/**
 * A customer-managed key rotated yearly, whose policy delegates to the account's IAM
 * policies (the roles name the key themselves) and adds `serviceStatements`: what services
 * do with it on their own behalf.
 */
export function createCustomerKey(name: string, description: string, serviceStatements: (account: pulumi.Output<string>) => object[]): aws.kms.Key {
  const account = aws.getCallerIdentityOutput().accountId;
  const partition = aws.getPartitionOutput().partition;
  return new aws.kms.Key(name, {
    description,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy: pulumi.jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministersKey",
          Effect: "Allow",
          Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` },
          Action: "kms:*",
          Resource: "*",
        },
        ...serviceStatements(account),
      ],
    }),
  });
}

/**
 * The stack's one customer-managed key for data at rest: queues, SecureString parameters,
 * log groups, the table. The key policy adds only the services that use it on their own
 * behalf: CloudWatch Logs for this account's log groups (bound by the encryption context
 * AWS documents), and SNS and EventBridge sending undelivered events to our encrypted
 * dead-letter queues, for sources in this account only.
 */
export function createDataKey(name: string): aws.kms.Key {
  const partition = aws.getPartitionOutput().partition;
  const region = aws.getRegionOutput().region;
  return createCustomerKey(name, "Encrypts the stack's queues, parameters, log groups and table", (account) => [
    {
      Sid: "CloudWatchLogsEncryptsLogGroups",
      Effect: "Allow",
      Principal: { Service: pulumi.interpolate`logs.${region}.amazonaws.com` },
      Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${account}:log-group:*` } },
    },
    {
      Sid: "ServicesSendUndeliveredEvents",
      Effect: "Allow",
      Principal: { Service: ["sns.amazonaws.com", "events.amazonaws.com"] },
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": account } },
    },
  ]);
}

/**
 * What a function that reads or writes the table needs of its key: DynamoDB decrypts the
 * table's key on the caller's behalf (through `kms:ViaService`), so the caller's role must
 * allow `kms:Decrypt`. None without a key.
 */
export function tableKeyPermissions(keyArn: pulumi.Input<string> | undefined): PermissionStatement[] {
  return keyArn === undefined ? [] : [{ actions: [...KMS_READ_ACTIONS], resources: [keyArn] }];
}
