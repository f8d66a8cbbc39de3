// AWS service limits the components enforce. No Pulumi import here, so tools that must not
// load @pulumi/aws early (the local runtime, before it evaluates the program) can use them.

/** The Node.js runtimes a function may run on; their dates are in {@link NODEJS_RUNTIMES}. */
export const LambdaRuntime = {
  Nodejs24: "nodejs24.x",
  Nodejs22: "nodejs22.x",
  Nodejs20: "nodejs20.x",
} as const;
export type LambdaRuntime = (typeof LambdaRuntime)[keyof typeof LambdaRuntime];

/** What AWS says of one runtime: its lifecycle dates (UTC days, `YYYY-MM-DD`) and handler styles. */
export interface RuntimeFacts {
  /** No more security patches from this day. */
  deprecation: string;
  /** AWS refuses to create functions on the runtime from this day. */
  blockCreate: string;
  /** AWS refuses to update functions on the runtime from this day. */
  blockUpdate: string;
  /** Whether the runtime still calls callback-style handlers `(event, context, callback)`. */
  callbackHandlers: boolean;
}

/**
 * Every runtime with AWS's dates ("Building Lambda functions with Node.js" in the Lambda
 * developer guide). The enum above must stay an object literal for Pulumi's schema
 * analyzer; keying this table by it makes the compiler demand the dates of every runtime.
 */
export const NODEJS_RUNTIMES: Record<LambdaRuntime, RuntimeFacts> = {
  "nodejs24.x": { deprecation: "2028-04-30", blockCreate: "2028-06-01", blockUpdate: "2028-07-01", callbackHandlers: false },
  "nodejs22.x": { deprecation: "2027-04-30", blockCreate: "2027-06-01", blockUpdate: "2027-07-01", callbackHandlers: true },
  "nodejs20.x": { deprecation: "2026-04-30", blockCreate: "2026-08-31", blockUpdate: "2026-09-30", callbackHandlers: true },
};

/** The runtimes not yet deprecated on `today`, the one supported longest first. */
export function supportedRuntimes(today: Date): LambdaRuntime[] {
  const day = today.toISOString().slice(0, 10);
  return (Object.keys(NODEJS_RUNTIMES) as LambdaRuntime[])
    .filter((runtime) => day < NODEJS_RUNTIMES[runtime].deprecation)
    .sort((a, b) => NODEJS_RUNTIMES[b].deprecation.localeCompare(NODEJS_RUNTIMES[a].deprecation));
}

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

/**
 * The S3 event types a bucket notification may name (S3 user guide, "Supported event
 * types"); `<category>:*` covers every type of its category.
 */
export const S3_EVENT_TYPES: readonly string[] = [
  "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
  "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
  "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
  "s3:ReducedRedundancyLostObject",
  "s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
  "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
  "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
  "s3:LifecycleTransition", "s3:IntelligentTiering",
  "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
  "s3:ObjectAcl:Put",
];

/**
 * What the push sources accept of a trigger: an SNS filter policy's attribute names and value
 * combinations, an EventBridge event pattern's characters, an S3 key prefix's or suffix's.
 */
export const EVENT_TRIGGER_LIMITS = {
  filterPolicyAttributes: 5,
  filterPolicyCombinations: 150,
  eventPatternLength: 4096,
  keyFilterLength: 1024,
} as const;

/** Asynchronous invocation: retries after a failed attempt, and how long Lambda keeps an event, in seconds. */
export const ASYNC_INVOKE_LIMITS = { maxRetries: [0, 2], maxEventAgeSeconds: [60, 21600] } as const;

/**
 * How often EventBridge and the Scheduler retry delivering an event to a target that
 * refuses it (throttled, unreachable): AWS's own default and maximum.
 */
export const DELIVERY_RETRY_ATTEMPTS = 185;

/**
 * What Lambda's event source mappings accept for a DynamoDB or Kinesis stream (the
 * CreateEventSourceMapping API reference and "Lambda event filtering"), and how long a
 * DynamoDB stream keeps a record.
 */
export const STREAM_MAPPING_LIMITS = {
  batchSize: { min: 1, max: 10000 },
  batchWindowSeconds: { min: 0, max: 300 },
  parallelizationFactor: { min: 1, max: 10 },
  /** -1 means "until the record leaves the stream". */
  maxRetries: { min: -1, max: 10000 },
  /** -1 means "until the record leaves the stream"; otherwise 60 s to 7 days. */
  maxRecordAgeSeconds: { min: 60, max: 7 * 24 * 3600 },
  /** Filters per mapping (AWS's default quota; `$or` combines patterns inside one). */
  filters: 5,
  /** Characters of one filter pattern's JSON. */
  filterPatternLength: 4096,
  /** DynamoDB Streams keeps every record for 24 hours; an older age never applies. */
  dynamodbStreamRetentionSeconds: 24 * 3600,
} as const;

/**
 * CodeDeploy for Lambda (the CodeDeploy user guide, "Deployment configurations on an AWS
 * Lambda compute platform", and the TimeBasedCanary / TimeBasedLinear API types): the
 * predefined configurations, keyed `<percentage>:<minutes>`, and what a custom one accepts.
 */
export const CODEDEPLOY_LAMBDA = {
  allAtOnce: "CodeDeployDefault.LambdaAllAtOnce",
  canary: {
    "10:5": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
    "10:10": "CodeDeployDefault.LambdaCanary10Percent10Minutes",
    "10:15": "CodeDeployDefault.LambdaCanary10Percent15Minutes",
    "10:30": "CodeDeployDefault.LambdaCanary10Percent30Minutes",
  } as Record<string, string>,
  linear: {
    "10:1": "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
    "10:2": "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
    "10:3": "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
    "10:10": "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
  } as Record<string, string>,
  /** A custom config's share of traffic per step: a whole percentage. */
  percentage: { min: 1, max: 99 },
  /** A custom config's canary wait or linear interval, in whole minutes (up to two days). */
  minutes: { min: 1, max: 2880 },
  /** Alarms one deployment group watches. */
  alarmsPerGroup: 10,
  /** Characters of a deployment config's or group's name. */
  nameLength: 100,
} as const;

/**
 * REST APIs end an integration after 29 seconds by default (AWS raises it for regional and
 * private APIs only on a quota request, which this library does not assume).
 */
export const REST_API_INTEGRATION_TIMEOUT_SECONDS = 29;

/**
 * REST API quotas ("Quotas for configuring and running a REST API in API Gateway" and
 * "Amazon API Gateway quotas"): the default of each, per API or per account and Region.
 */
export const REST_API_LIMITS = {
  /** Resources (path segments, the root included) per API; can be raised. */
  resourcesPerApi: 300,
  /** Lambda and Cognito authorizers per API. */
  authorizersPerApi: 10,
  /** API keys per account and Region; cannot be raised. */
  apiKeysPerAccount: 10000,
  /** Usage plans per account and Region; can be raised. */
  usagePlansPerAccount: 300,
  /** Usage plans one API key may belong to. */
  usagePlansPerApiKey: 10,
  /** Characters of a resource policy; can be raised. */
  resourcePolicyLength: 8192,
  /** Seconds a Lambda authorizer's result may be cached. */
  authorizerTtlSeconds: { min: 0, max: 3600 },
  /** Stage throttling, account-wide defaults per Region. */
  throttle: { rateLimit: 10000, burstLimit: 5000 },
  /** How many requests per 5 minutes a WAF rate-based rule may allow per client IP. */
  wafRateLimit: { min: 10, max: 2_000_000_000 },
} as const;

/** The periods of a usage plan's quota, and the offsets each allows (days into the period). */
export const QUOTA_PERIOD_OFFSETS = { DAY: 0, WEEK: 6, MONTH: 27 } as const;

/**
 * HTTP API Lambda authorizers: a cached decision lives 0-3600 s (0: no cache), and API
 * Gateway waits 10 s for the function before it answers 500.
 */
export const HTTP_API_AUTHORIZER_LIMITS = {
  resultTtlSeconds: { min: 0, max: 3600 },
  timeoutSeconds: 10,
} as const;

/**
 * Custom domain names (RFC 1035 as API Gateway applies it): 253 characters, labels of 1-63;
 * regional endpoints only with the TLS 1.2 security policy, and a certificate in the API's region.
 */
export const CUSTOM_DOMAIN_LIMITS = {
  nameLength: 253,
  labelLength: 63,
  securityPolicy: "TLS_1_2",
} as const;

/**
 * What AWS accepts as resource tags ("Tagging AWS resources", tag naming limits): keys of
 * 1-128 and values of 0-256 Unicode characters, of letters, digits, spaces and `_.:/=+-@`;
 * the `aws:` key prefix is AWS's own; at most 50 tags on a resource, counting the
 * provider's default tags (merged into every resource by AWS's Pulumi provider).
 */
export const TAG_LIMITS = {
  keyLength: 128,
  valueLength: 256,
  perResource: 50,
  reservedPrefix: "aws:",
  characters: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
} as const;
