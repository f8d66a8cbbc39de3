/**
 * The IAM principals a stack trusts to call its API for any customer: the format the stack
 * config accepts (app/settings) and the match the functions apply (lib/http), in one place.
 */

/**
 * The environment variable holding the stack's trusted IAM principals: a JSON array of IAM
 * role and user ARNs (Pulumi config `trustedIamPrincipals`). Unset means none.
 */
export const TRUSTED_IAM_PRINCIPALS_ENV = "TRUSTED_IAM_PRINCIPALS";

/** The IAM role and user ARNs a stack may trust, as `trustedIamPrincipals` accepts them. */
export const TRUSTED_PRINCIPAL_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)\/([\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;

/**
 * The test of whether a `callerArn` (the `userArn` of a SigV4-signed call) is `trusted` (an
 * entry TRUSTED_PRINCIPAL_ARN accepts): a user's ARN is itself; a role's sessions are
 * `arn:<partition>:sts::<account>:assumed-role/<role name>/<session>`, without the role's path.
 * Made once per entry, not per call.
 */
export function principalMatcher(trusted: string): (callerArn: string) => boolean {
  const match = TRUSTED_PRINCIPAL_ARN.exec(trusted);
  if (!match) return () => false;
  const [, partition, account, kind, , principalName] = match;
  if (kind === "user") return (callerArn) => callerArn === trusted;
  const session = `arn:${partition}:sts::${account}:assumed-role/${principalName}/`;
  return (callerArn) => callerArn.startsWith(session) && /^[\w+=,.@-]+$/.test(callerArn.slice(session.length));
}
