import * as pulumi from "@pulumi/pulumi";
import { DEPLOYMENT_STRATEGIES, DeploymentArgs, DeploymentStrategy } from "../components/deployment";
import { checkTags, providerDefaultTags } from "../components/tags";
import { LOG_RETENTION_DAYS, ProblemCollector } from "../components/validation";
import { TRUSTED_PRINCIPAL_ARN } from "../handlers/lib/principals";
import { MFA_MODES, MfaMode, USER_POOL_TIERS, UserPoolTier } from "./identity";

/** The stack's settings, read from its config (Pulumi.yaml declares each key and default). */
export interface StackSettings {
  apiMemorySize: number;
  apiTimeout: number;
  /** Undefined: the API functions share the account's unreserved pool. */
  apiReservedConcurrency?: number;
  readProvisionedConcurrency: number;
  workerMemorySize: number;
  workerTimeout: number;
  workerMaxConcurrency: number;
  workerBatchSize: number;
  /** Minutes between runs of the sweeper, which fulfils what the stream path left PENDING. */
  sweepIntervalMinutes: number;
  /** Minutes an order waits PENDING before the sweeper fulfils it: well past the stream path's latency and retries. */
  sweepGraceMinutes: number;
  /** The most orders one sweeper run fulfils; the rest wait for the next run. */
  sweepMaxOrders: number;
  logRetentionDays: number;
  throttleRateLimit: number;
  throttleBurstLimit: number;
  alarmEmail?: string;
  vpcEnabled: boolean;
  protectData: boolean;
  /** One customer-managed key (app/keys.ts) encrypts the stack's data; false: AWS managed keys. */
  customerManagedKeys: boolean;
  maxItemsPerOrder: number;
  maxOrdersPerCustomerPerDay: number;
  /** IAM role and user ARNs whose signed calls may act for any customer. */
  trustedIamPrincipals: string[];
  userPoolTier: UserPoolTier;
  mfa: MfaMode;
  selfSignUp: boolean;
  authCallbackUrl: string;
  /** How CodeDeploy shifts each new version of the API functions (their health-check hook is added by the program). */
  apiDeployment: DeploymentArgs;
  /** How CodeDeploy shifts each new version of the fulfilment worker. */
  workerDeployment: DeploymentArgs;
  /** The stack's tags (`aws:defaultTags`), on every resource beside project, stack and component. */
  tags: Record<string, string>;
}

/** The tags every stack must set in `aws:defaultTags`, for cost allocation (the policy pack requires them in prod). */
export const REQUIRED_STACK_TAGS = ["cost-center", "owner"] as const;

/** Inclusive ranges of the numeric settings, with their unit. */
export const SETTING_RANGES: Record<string, [number, number, string]> = {
  apiMemorySize: [128, 10240, "MB"],
  apiTimeout: [1, 30, "seconds"],
  apiReservedConcurrency: [0, 10000, "executions"],
  readProvisionedConcurrency: [0, 10000, "executions"],
  workerMemorySize: [128, 10240, "MB"],
  workerTimeout: [1, 900, "seconds"],
  workerMaxConcurrency: [2, 1000, "invocations"],
  workerBatchSize: [1, 10, "messages"],
  sweepIntervalMinutes: [1, 60, "minutes"],
  sweepGraceMinutes: [5, 1440, "minutes"],
  sweepMaxOrders: [1, 1000, "orders"],
  throttleRateLimit: [1, 10000, "requests per second"],
  throttleBurstLimit: [1, 5000, "requests"],
  maxItemsPerOrder: [1, 100, "items"],
  maxOrdersPerCustomerPerDay: [1, 100000, "orders"],
  apiDeploymentPercentage: [1, 99, "percent"],
  apiDeploymentMinutes: [1, 2880, "minutes"],
  workerDeploymentPercentage: [1, 99, "percent"],
  workerDeploymentMinutes: [1, 2880, "minutes"],
};

/** A deployment from a stack's three settings: the strategy, its share, and its minutes (canary wait or linear interval). */
export function deploymentOf(strategy: DeploymentStrategy, percentage: number, minutes: number): DeploymentArgs {
  if (strategy === "canary") return { strategy, percentage, minutes };
  if (strategy === "linear") return { strategy, percentage, intervalMinutes: minutes };
  return { strategy };
}

/** Every problem with the stack's config, thrown at once. */
export class StackConfigError extends Error {
  constructor(stack: string, problems: string[]) {
    super(`Stack "${stack}" has invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/** Reads and checks the stack's config; throws a StackConfigError naming each bad key. */
export function readSettings(): StackSettings {
  const config = new pulumi.Config();
  const stack = pulumi.getStack();
  const project = pulumi.getProject();
  const problems: string[] = [];
  const setHint = (key: string) => `pulumi config set ${key} <value> --stack ${stack}`;

  const integer = (key: string): number => {
    const raw = config.get(key);
    const [min, max, unit] = SETTING_RANGES[key];
    const value = raw === undefined ? NaN : Number(raw);
    if (raw === undefined) {
      problems.push(`${project}:${key} is not set; allowed ${min}-${max} ${unit}. Set it with \`${setHint(key)}\`.`);
    } else if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${project}:${key} = ${JSON.stringify(raw)} is outside ${min}-${max} ${unit}. Set it with \`${setHint(key)}\`.`);
    }
    return value;
  };
  const boolean = (key: string): boolean => {
    const raw = config.get(key) ?? "false";
    if (raw !== "true" && raw !== "false") problems.push(`${project}:${key} = ${JSON.stringify(raw)} is not true or false.`);
    return raw === "true";
  };

  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T => {
    const raw = config.get(key) ?? "";
    if (!(allowed as readonly string[]).includes(raw)) problems.push(`${project}:${key} = ${JSON.stringify(raw)} is not one of ${allowed.join(", ")}. Set it with \`${setHint(key)}\`.`);
    return raw as T;
  };

  const settings = {
    apiMemorySize: integer("apiMemorySize"),
    apiTimeout: integer("apiTimeout"),
    apiReservedConcurrency: integer("apiReservedConcurrency") || undefined,
    readProvisionedConcurrency: integer("readProvisionedConcurrency"),
    workerMemorySize: integer("workerMemorySize"),
    workerTimeout: integer("workerTimeout"),
    workerMaxConcurrency: integer("workerMaxConcurrency"),
    workerBatchSize: integer("workerBatchSize"),
    sweepIntervalMinutes: integer("sweepIntervalMinutes"),
    sweepGraceMinutes: integer("sweepGraceMinutes"),
    sweepMaxOrders: integer("sweepMaxOrders"),
    logRetentionDays: Number(config.get("logRetentionDays")),
    throttleRateLimit: integer("throttleRateLimit"),
    throttleBurstLimit: integer("throttleBurstLimit"),
    alarmEmail: config.get("alarmEmail") || undefined,
    vpcEnabled: boolean("vpcEnabled"),
    protectData: boolean("protectData"),
    customerManagedKeys: boolean("customerManagedKeys"),
    maxItemsPerOrder: integer("maxItemsPerOrder"),
    maxOrdersPerCustomerPerDay: integer("maxOrdersPerCustomerPerDay"),
    userPoolTier: oneOf("userPoolTier", USER_POOL_TIERS),
    mfa: oneOf("mfa", MFA_MODES),
    selfSignUp: boolean("selfSignUp"),
    authCallbackUrl: config.get("authCallbackUrl") ?? "",
    apiDeployment: deploymentOf(oneOf("apiDeploymentStrategy", DEPLOYMENT_STRATEGIES), integer("apiDeploymentPercentage"), integer("apiDeploymentMinutes")),
    workerDeployment: deploymentOf(oneOf("workerDeploymentStrategy", DEPLOYMENT_STRATEGIES), integer("workerDeploymentPercentage"), integer("workerDeploymentMinutes")),
  };

  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(settings.logRetentionDays)) {
    problems.push(`${project}:logRetentionDays = ${JSON.stringify(config.get("logRetentionDays"))} is not a CloudWatch Logs retention; use one of ${LOG_RETENTION_DAYS.join(", ")} days.`);
  }
  const reserved = settings.apiReservedConcurrency;
  if (reserved !== undefined && settings.readProvisionedConcurrency > reserved) {
    problems.push(`${project}:readProvisionedConcurrency = ${settings.readProvisionedConcurrency} is above apiReservedConcurrency = ${reserved}; provisioned must be at most reserved.`);
  }
  if (settings.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(settings.alarmEmail)) {
    problems.push(`${project}:alarmEmail = ${JSON.stringify(settings.alarmEmail)} is not an email address; set one, or "" for none.`);
  }
  const trustedIamPrincipals = trustedPrincipals(config.get("trustedIamPrincipals"), `${project}:trustedIamPrincipals`, problems);
  if (!isCallbackUrl(settings.authCallbackUrl)) {
    problems.push(`${project}:authCallbackUrl = ${JSON.stringify(settings.authCallbackUrl)} is not an https URL (http only for localhost); set the web app's sign-in callback with \`${setHint("authCallbackUrl")}\`.`);
  }
  const tags = stackTags(stack, problems);
  if (problems.length > 0) throw new StackConfigError(stack, problems);
  return { ...settings, trustedIamPrincipals, tags };
}

/** The `trustedIamPrincipals` list (a JSON array in config), each entry an IAM role or user ARN. */
function trustedPrincipals(raw: string | undefined, key: string, problems: string[]): string[] {
  const fix = "list IAM role or user ARNs, e.g. [\"arn:aws:iam::123456789012:role/orders-support\"], or [] for none";
  let value: unknown;
  try {
    value = JSON.parse(raw ?? "[]");
  } catch {
    value = raw;
  }
  if (!Array.isArray(value)) {
    problems.push(`${key} = ${JSON.stringify(raw)} is not a list; ${fix}.`);
    return [];
  }
  for (const [index, entry] of value.entries()) {
    if (typeof entry !== "string" || !TRUSTED_PRINCIPAL_ARN.test(entry)) {
      problems.push(`${key}[${index}] = ${JSON.stringify(entry)} is not an IAM role or user ARN (no wildcards, no account root); ${fix}.`);
    }
  }
  return value as string[];
}

/** https, or http to this machine (a local web app during development). */
function isCallbackUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname));
  } catch {
    return false;
  }
}

/** The stack's `aws:defaultTags`, checked as AWS checks tags, with every required key set. */
function stackTags(stack: string, problems: string[]): Record<string, string> {
  const tags = providerDefaultTags();
  const tagProblems = new ProblemCollector();
  checkTags("aws:defaultTags.tags", tags, tagProblems);
  for (const key of REQUIRED_STACK_TAGS) {
    if (typeof tags[key] !== "string" || tags[key].trim() === "") tagProblems.add(`aws:defaultTags.tags.${key}`, "is not set; every stack names its cost center and owning team.");
  }
  for (const { path, reason } of tagProblems.problems) {
    problems.push(`${path}: ${reason} Set it in Pulumi.${stack}.yaml under aws:defaultTags: { tags: { cost-center: ..., owner: ... } }.`);
  }
  return tags;
}
