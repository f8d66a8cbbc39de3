// Customer-managed KMS keys on the components: how an argument naming one is checked, and
// the `kms:` actions each kind of use needs on it (AWS's SQS, SSM and Lambda guides).
import * as pulumi from "@pulumi/pulumi";
import { kmsKeyProblem } from "./arns";
import { PermissionStatement } from "./policy";
import { ProblemCollector, ResolvedArgumentChecks } from "./validation";

/** Reading what the key encrypts: a SecureString parameter, a message received from a queue. */
export const KMS_READ_ACTIONS: readonly string[] = ["kms:Decrypt"];
/** Sending to a queue the key encrypts: a data key for the message, and Decrypt to reuse it. */
export const KMS_SEND_ACTIONS: readonly string[] = ["kms:GenerateDataKey", "kms:Decrypt"];

/** Adds the problem of a `kmsKeyArn` known now; an Output is checked once it resolves ({@link checkedKmsKey}). */
export function checkKmsKeyArn(path: string, value: pulumi.Input<string> | undefined, problems: ProblemCollector): void {
  if (value === undefined || (typeof value === "object" && value !== null)) return;
  const problem = kmsKeyProblem(value);
  if (problem) problems.add(path, problem);
}

/** The key, or undefined; an Output resolves only when it is a key ARN, and fails the deployment otherwise. */
export function checkedKmsKey(checks: ResolvedArgumentChecks, path: string, value: pulumi.Input<string> | undefined): pulumi.Input<string> | undefined {
  if (value === undefined || typeof value === "string") return value;
  return checks.checked(path, value, kmsKeyProblem);
}

/** The statement that allows `actions` on `key`, and on no other key. */
export function keyStatement(actions: readonly string[], key: pulumi.Input<string>): PermissionStatement {
  return { actions: [...actions], resources: [key] };
}

/** A queue's encryption: under `key` when one is given, else SQS's own keys (SSE-SQS). */
export function queueEncryption(key: pulumi.Input<string> | undefined): { sqsManagedSseEnabled?: boolean; kmsMasterKeyId?: pulumi.Input<string> } {
  return key === undefined ? { sqsManagedSseEnabled: true } : { kmsMasterKeyId: key };
}
