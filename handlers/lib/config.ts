import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { awsClientConfig } from "./aws-clients";
import { positiveInteger } from "./env";

/**
 * Parameter Store reads for the function's own path (PARAMETERS_PATH), through one provider
 * (and so one SSM client) per cold start. Values are cached in the provider for
 * CONFIG_MAX_AGE_SECONDS, so a warm function calls SSM at most once per that interval.
 */
export const parameters = new SSMProvider({ clientConfig: awsClientConfig() });

/** How long fetched parameter values are reused, in seconds. */
const CONFIG_MAX_AGE_SECONDS = 300;

/** Thrown when the Parameter Store values are missing or malformed: an operator's fix. */
class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Every parameter under `path` (recursive, SecureStrings decrypted), keyed by the name
 * relative to the path (`/app/fn/maxItemsPerOrder` -> `maxItemsPerOrder`).
 */
export async function readParameters(path: string): Promise<Record<string, unknown>> {
  return (
    (await parameters.getMultiple(path, {
      recursive: true,
      decrypt: true,
      maxAge: CONFIG_MAX_AGE_SECONDS,
    })) ?? {}
  );
}

/** A parameter that must be a non-empty string. Never puts the value in the message. */
export function requiredString(values: Record<string, unknown>, path: string, key: string): string {
  const value = values[key];
  if (typeof value !== "string" || value === "") {
    throw new ConfigError(`Parameter ${path}/${key} is missing or empty`);
  }
  return value;
}

/** A parameter that must hold a positive integer written in decimal. */
export function requiredPositiveInteger(values: Record<string, unknown>, path: string, key: string): number {
  const text = requiredString(values, path, key);
  const value = positiveInteger(text);
  if (value === undefined) throw new ConfigError(`Parameter ${path}/${key} must be a positive integer, got "${text.trim()}"`);
  return value;
}
