import { requirePositiveIntegerEnv } from "./env";

/**
 * Timeouts and attempts for every AWS SDK client of a function, so that the longest chain of
 * AWS calls one invocation makes, each with all its retries, ends before Lambda kills the
 * function (smithy's default is no timeout at all: a hung call would run into the function's
 * timeout mid-request).
 */
export interface SdkTimeouts {
  /** Milliseconds to open a connection. */
  connectionTimeout: number;
  /** Milliseconds one attempt may take once the request is sent. */
  requestTimeout: number;
  /** Attempts per call, the first included. */
  maxAttempts: number;
}

/**
 * The most AWS calls one invocation makes one after the other: create-order reads its
 * parameters, counts the customer's recent orders, writes the order and, when the write
 * meets its condition (a retry), reads the order that won. The fault-injection test checks
 * no request makes more.
 */
export const SEQUENTIAL_AWS_CALLS = 4;
/** The share of the function's timeout its AWS calls may use; the rest is the handler's own. */
const AWS_SHARE_OF_TIMEOUT = 0.8;
const MAX_ATTEMPTS = 3;
const MAX_CONNECTION_TIMEOUT_MS = 1000;
/** The SDK's standard retry waits at most 100 ms x 2^n before the (n+1)-th attempt. */
const worstBackoffMs = (attempts: number) =>
  Array.from({ length: attempts - 1 }, (_, i) => 100 * 2 ** (i + 1)).reduce((a, b) => a + b, 0);

/** The timeouts for a function of `functionTimeoutSeconds` that makes `sequentialCalls` calls in a row. */
export function sdkTimeouts(functionTimeoutSeconds: number, sequentialCalls = SEQUENTIAL_AWS_CALLS): SdkTimeouts {
  const perCallMs = (functionTimeoutSeconds * 1000 * AWS_SHARE_OF_TIMEOUT) / sequentialCalls;
  // Fewer attempts when the budget is too small for three to be worth anything.
  const maxAttempts = perCallMs >= 1500 ? MAX_ATTEMPTS : perCallMs >= 600 ? 2 : 1;
  const perAttemptMs = Math.floor((perCallMs - worstBackoffMs(maxAttempts)) / maxAttempts);
  const connectionTimeout = Math.min(MAX_CONNECTION_TIMEOUT_MS, Math.floor(perAttemptMs / 4));
  return { connectionTimeout, requestTimeout: perAttemptMs - connectionTimeout, maxAttempts };
}

/** The worst case of one call with these timeouts: every attempt times out, with the longest waits between. */
export function worstCallMs({ connectionTimeout, requestTimeout, maxAttempts }: SdkTimeouts): number {
  return maxAttempts * (connectionTimeout + requestTimeout) + worstBackoffMs(maxAttempts);
}

/**
 * The timeouts of this function's SDK clients, from its timeout in FUNCTION_TIMEOUT_SECONDS,
 * which SecureFunction sets from the function's own `timeout`.
 */
export function functionSdkTimeouts(): SdkTimeouts {
  return sdkTimeouts(requirePositiveIntegerEnv("FUNCTION_TIMEOUT_SECONDS"));
}

/** The client configuration every handler's SDK client takes (functionSdkTimeouts). */
export function awsClientConfig() {
  const { connectionTimeout, requestTimeout, maxAttempts } = functionSdkTimeouts();
  return { maxAttempts, requestHandler: { connectionTimeout, requestTimeout, throwOnRequestTimeout: true } };
}
