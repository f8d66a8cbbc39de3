// AWS service limits the components enforce. No Pulumi import here, so tools that must not
// load @pulumi/aws early (the local runtime, before it evaluates the program) can use them.

/** HTTP APIs end every integration after 30 seconds, whatever the function's timeout. */
export const HTTP_API_INTEGRATION_TIMEOUT_SECONDS = 30;

/**
 * The shortest visibility timeout of a queue that a Lambda function consumes, in seconds:
 * AWS recommends 6x the function timeout plus the event source mapping's maximum batching
 * window, so a batch in work (and Lambda's retries when the function is throttled) is not
 * delivered to a second invocation. The policy pack (policy/rules.ts) keeps a copy, pinned
 * to this one by test/policy/program.test.ts, because it must not import the components.
 */
export function minimumVisibilityTimeoutSeconds(functionTimeoutSeconds: number, batchWindowSeconds: number): number {
  return 6 * functionTimeoutSeconds + batchWindowSeconds;
}
