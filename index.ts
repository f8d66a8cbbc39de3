/**
 * The orders service: an HTTP API to create and read orders, a DynamoDB table, and
 * asynchronous fulfilment from the table's stream (a transactional outbox: creating an order
 * is one write, and fulfilment follows from it), configured per stack (Pulumi.<stack>.yaml).
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { EventWorker, FunctionVpcArgs, ServerlessApi, StreamWorker } from "./components";
import { createAlarm } from "./components/alarms";
import { physicalName } from "./components/naming";
import { tagging } from "./components/tags";
import { createAlarmTopic } from "./app/alarm-topic";
import { createDataKey, tableKeyPermissions } from "./app/keys";
import { createIdentity, ORDERS_SCOPES } from "./app/identity";
import { createPrivateNetwork } from "./app/network";
import { readSettings } from "./app/settings";
import { ordersTable, CUSTOMER_INDEX, PENDING_INDEX } from "./handlers/orders/table";

const settings = readSettings();
// Every taggable resource of the stack carries the stack's tags, project, stack and
// component: the components' own transformations run first and name their component; the
// table, topic, keys, network and identity below are their own (`dynamodb.Table/orders`).
pulumi.runtime.registerStackTransformation(tagging(settings.tags));
const dataProtection = { protect: settings.protectData };
const dataKeyArn = settings.customerManagedKeys ? createDataKey("data-key").arn : undefined;

const table = new aws.dynamodb.Table("orders", {
  name: physicalName("orders", 255),
  billingMode: "PAY_PER_REQUEST",
  hashKey: ordersTable.hashKey,
  attributes: ordersTable.attributes.map((attribute) => ({ ...attribute })),
  globalSecondaryIndexes: ordersTable.globalSecondaryIndexes.map((index) => ({ ...index })),
  pointInTimeRecovery: { enabled: true },
  serverSideEncryption: { enabled: true, kmsKeyArn: dataKeyArn },
  deletionProtectionEnabled: settings.protectData,
  // The outbox: fulfilment reads new orders from here; the keys are all it needs.
  streamEnabled: true,
  streamViewType: "KEYS_ONLY",
}, dataProtection);

const alarmTopic = createAlarmTopic("alarms", settings.alarmEmail);

const identity = createIdentity("customers", {
  tier: settings.userPoolTier,
  mfa: settings.mfa,
  selfSignUp: settings.selfSignUp,
  callbackUrl: settings.authCallbackUrl,
  protectData: settings.protectData,
});

let vpc: FunctionVpcArgs | undefined;
if (settings.vpcEnabled) {
  const network = createPrivateNetwork("orders-network", { retentionDays: settings.logRetentionDays, kmsKeyArn: dataKeyArn });
  vpc = { subnetIds: network.subnetIds, securityGroupIds: [network.functionSecurityGroup.id] };
}

const common = {
  logRetentionDays: settings.logRetentionDays,
  alarmActions: [alarmTopic.arn],
  vpc,
  kmsKeyArn: dataKeyArn,
  environment: {
    TABLE_NAME: table.name,
    POWERTOOLS_METRICS_NAMESPACE: "ServerlessOrders",
  },
};

const fulfilment = new StreamWorker("fulfilment", {
  ...common,
  handler: "handlers/orders/fulfil-orders.handler",
  description: "Moves new orders from PENDING to FULFILLED",
  environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "fulfilment" },
  memorySize: settings.workerMemorySize,
  timeout: settings.workerTimeout,
  streamArn: table.streamArn,
  streamKind: "dynamodb",
  // The orders written before the mapping exists are fulfilled too.
  startingPosition: "TRIM_HORIZON",
  batchSize: settings.workerBatchSize,
  filters: [{ eventName: ["INSERT"] }],
  // Caps the worker so a flood of orders cannot take the API's concurrency.
  reservedConcurrency: settings.workerMaxConcurrency,
  // The table's key encrypts its stream too; that kms:Decrypt also opens the table.
  streamKmsKeyArn: dataKeyArn,
  permissions: [{ actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources: [table.arn] }],
  // Linear 10% every minute in prod: about 10 minutes, within what `pulumi up` waits (900 s).
  deployment: settings.workerDeployment,
});

// The safety net under the stream path: what it dead-letters stays PENDING until this finds it
// in the pending index past the grace period and fulfils it with the worker's own update.
const sweeper = new EventWorker("sweeper", {
  ...common,
  handler: "handlers/orders/sweep-pending.handler",
  description: "Fulfils the orders the stream path left PENDING past the grace period",
  environment: {
    ...common.environment,
    POWERTOOLS_SERVICE_NAME: "sweeper",
    SWEEP_GRACE_MINUTES: String(settings.sweepGraceMinutes),
    SWEEP_MAX_ORDERS: String(settings.sweepMaxOrders),
  },
  memorySize: settings.workerMemorySize,
  timeout: settings.workerTimeout,
  triggers: { pending: { schedule: { expression: rateExpression(settings.sweepIntervalMinutes) } } },
  // The next run is the retry; a failed run goes to the dead-letter queue and the errors alarm.
  // A run that could not start before the next one is due is of no use.
  maxRetries: 0,
  // The interval's 1-60 minutes (app/settings) lie inside the 60-21600 s Lambda accepts.
  maxEventAgeSeconds: settings.sweepIntervalMinutes * 60,
  // One run at a time: two would race for the same orders (harmlessly, but for nothing).
  reservedConcurrency: 1,
  permissions: [
    { actions: ["dynamodb:Query"], resources: [pulumi.interpolate`${table.arn}/index/${PENDING_INDEX}`] },
    // GetItem: fulfilment reads the status when its condition fails (fulfilled meanwhile, or not).
    { actions: ["dynamodb:UpdateItem", "dynamodb:GetItem"], resources: [table.arn] },
    ...tableKeyPermissions(dataKeyArn),
  ],
});
// Anything swept means the stream path failed an order: its record is in fulfilment-dlq.
createAlarm("sweeper-orders-swept", {
  description: "The sweeper fulfilled orders the stream path left PENDING: look at fulfilment-dlq for the failed records and why.",
  namespace: "ServerlessOrders",
  metricName: "OrderSwept",
  dimensions: { service: "sweeper" },
  statistic: "Sum",
  period: settings.sweepIntervalMinutes * 60,
  evaluationPeriods: 1,
  threshold: 1,
}, [alarmTopic.arn], sweeper);

const api = new ServerlessApi("orders-api", {
  auth: { jwt: { issuer: identity.issuer, audience: [identity.client.id] } },
  throttle: { rateLimit: settings.throttleRateLimit, burstLimit: settings.throttleBurstLimit },
  accessLogRetentionDays: settings.logRetentionDays,
  kmsKeyArn: dataKeyArn,
  functionDefaults: {
    ...common,
    environment: { ...common.environment, POWERTOOLS_SERVICE_NAME: "orders-api", TRUSTED_IAM_PRINCIPALS: JSON.stringify(settings.trustedIamPrincipals) },
    memorySize: settings.apiMemorySize,
    timeout: settings.apiTimeout,
    reservedConcurrency: settings.apiReservedConcurrency,
    // Every API function answers the deployment probe (handlers/lib/http.ts) before it takes traffic.
    deployment: { ...settings.apiDeployment, beforeTraffic: "handlers/deploy/health-check.check" },
  },
  routes: {
    "POST /orders": {
      handler: "handlers/orders/create-order.handler",
      scopes: [ORDERS_SCOPES.write],
      description: "Validates and stores an order; fulfilment follows from the table's stream",
      parameters: {
        maxItemsPerOrder: String(settings.maxItemsPerOrder),
        maxOrdersPerCustomerPerDay: String(settings.maxOrdersPerCustomerPerDay),
      },
      permissions: [
        { actions: ["dynamodb:PutItem", "dynamodb:GetItem"], resources: [table.arn] },
        // The per-customer order limit counts the customer's recent orders.
        { actions: ["dynamodb:Query"], resources: [pulumi.interpolate`${table.arn}/index/${CUSTOMER_INDEX}`] },
        ...tableKeyPermissions(dataKeyArn),
      ],
    },
    "GET /orders/{orderId}": {
      provisionedConcurrency: settings.readProvisionedConcurrency,
      handler: "handlers/orders/get-order.handler",
      scopes: [ORDERS_SCOPES.read],
      description: "Reads one order",
      permissions: [{ actions: ["dynamodb:GetItem"], resources: [table.arn] }, ...tableKeyPermissions(dataKeyArn)],
    },
    "GET /orders": {
      provisionedConcurrency: settings.readProvisionedConcurrency,
      handler: "handlers/orders/list-orders.handler",
      scopes: [ORDERS_SCOPES.read],
      description: "Lists a customer's orders",
      permissions: [{ actions: ["dynamodb:Query"], resources: [pulumi.interpolate`${table.arn}/index/${CUSTOMER_INDEX}`] }, ...tableKeyPermissions(dataKeyArn)],
    },
    "GET /health": {
      handler: "handlers/health.handler",
      description: "Liveness check",
      auth: "none",
    },
  },
});

/** A Scheduler rate expression of `minutes` (the unit is singular for 1). */
function rateExpression(minutes: number): string {
  return `rate(${minutes} ${minutes === 1 ? "minute" : "minutes"})`;
}

export const apiUrl = api.url;
export const tableName = table.name;
export const deadLetterQueueUrl = fulfilment.deadLetterQueueUrl;
export const userPoolId = identity.userPool.id;
export const userPoolClientId = identity.client.id;
export const authDomain = identity.domain.domain;
export const alarmTopicArn = alarmTopic.arn;
