/**
 * The AWS JSON protocol (1.0 for SQS, 1.1 for SSM) as the SDK v3 clients speak it: POST with
 * `X-Amz-Target: <Service>.<Operation>`, a JSON body, a JSON answer; errors are 400s whose
 * body names the error in `__type`.
 */
import { AwsError, type ProtocolCodec } from "./aws-server";

export interface JsonCodecOptions {
  /** `AmazonSQS` or `AmazonSSM`: the prefix of X-Amz-Target. */
  target: string;
  /** `application/x-amz-json-1.0` or `-1.1`. */
  contentType: string;
  /** The `__type` of a validation error for this service. */
  validationErrorType: string;
}

export function jsonCodec(options: JsonCodecOptions): ProtocolCodec {
  return {
    description: `the AWS JSON protocol (POST, X-Amz-Target: ${options.target}.<Operation>)`,
    accepts: (request) => request.headers["x-amz-target"] !== undefined,
    decode(request, text) {
      if (request.method !== "POST") throw new AwsError("UnknownOperationException", `Use POST with X-Amz-Target; got ${request.method}`);
      const [target, operation = ""] = String(request.headers["x-amz-target"]).split(".");
      let input: unknown;
      try {
        input = text === "" ? {} : JSON.parse(text);
      } catch (error) {
        throw new AwsError(options.validationErrorType, `Request body is not JSON: ${(error as Error).message}`);
      }
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new AwsError(options.validationErrorType, "Request body must be a JSON object");
      }
      // Another service's target names no operation here.
      return { operation: target === options.target ? operation : `${target}.${operation}`, input: input as Record<string, unknown> };
    },
    encode: (_operation, output) => ({ status: 200, contentType: options.contentType, body: JSON.stringify(output ?? {}) }),
    encodeError: (error) => ({
      status: error.status,
      contentType: options.contentType,
      body: JSON.stringify({ __type: error.type, message: error.message }),
      headers: error.queryError ? { "x-amzn-query-error": error.queryError } : undefined,
    }),
  };
}
