// AWS service limits the components enforce. No Pulumi import here, so tools that must not
// load @pulumi/aws early (the local runtime, before it evaluates the program) can use them.

/** HTTP APIs end every integration after 30 seconds, whatever the function's timeout. */
export const HTTP_API_INTEGRATION_TIMEOUT_SECONDS = 30;
