/**
 * `npm run dev -- [stack] [options]`: runs the application locally from the program itself.
 * `npm run dev -- dlq [list|redrive] [--stack <stack>]`: the dead-letter queues of a running
 * `npm run dev`.
 * `npm run dev -- send <queue> <body> [--stack <stack>]`: sends one message to a queue of a
 * running `npm run dev` (the queue's name, or the end of it: `fulfilment`).
 * `npm run dev -- put <table> <item> [--stack <stack>]`: writes one item (plain JSON) into a
 * table of a running `npm run dev`, through its stream when the table has one (the table's
 * name, or the end of it: `orders`).
 * `npm run dev -- fire <schedule> [--stack <stack>]`: fires one of the program's Scheduler
 * schedules now, in a running `npm run dev` (its name, or the end of it).
 *
 * Options: --port <n> (HTTP API, default 3000), --persist (DynamoDB on disk under
 * .local/dev/<stack>/dynamodb), --no-watch (no reload on change), --visibility-timeout <s>
 * (retry failed queue messages sooner than the deployed timeout), --jwks-url <url>
 * [--jwt-issuer <iss>] [--jwt-audience <aud>] (accept a real issuer's tokens instead of
 * the local key), --iam-principal <arn> (repeatable: another IAM role or user with local
 * access keys for IAM routes, besides the default role local-service).
 *
 * One runtime per stack: while one runs, a second `npm run dev` of that stack refuses to
 * start and says which process holds it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { listStacks, loadStackConfig } from "../tools/stack-config";
import { functionForArn } from "./app";
import { asyncDeadLetterSources } from "./async-model";
import { describeStreamMapping, streamDeadLetterSources } from "./stream-runtime";
import { countMessages, deadLetterQueues, peekDeadLetters, redrive, type QueueInfo } from "./dlq";
import { describeNodes } from "./functions";
import { readLocalSecrets, startLocalRuntime, type LocalRuntime } from "./runtime";
import { SIGV4_SERVICE, localPrincipal } from "./sigv4";

const ROOT = path.resolve(__dirname, "..");
const LOCAL_DIR = path.join(ROOT, ".local");
const SECRETS_FILE = path.join(LOCAL_DIR, "secrets.json");
/** Where a running `npm run dev` leaves its endpoints and queues for the other subcommands. */
const stateFile = (stack: string, localDir = LOCAL_DIR) => path.join(localDir, "dev", stack, "state.json");

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
  /** The values of flags that may repeat, in order. */
  lists: Map<string, string[]>;
}

const VALUE_FLAGS = new Set(["--port", "--visibility-timeout", "--jwks-url", "--jwt-issuer", "--jwt-audience", "--stack"]);
const REPEATED_FLAGS = new Set(["--iam-principal"]);
const BOOLEAN_FLAGS = new Set(["--persist", "--no-watch", "--help"]);

export function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (VALUE_FLAGS.has(arg) || REPEATED_FLAGS.has(arg)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith("--")) throw new Error(`${arg} needs a value.`);
      if (REPEATED_FLAGS.has(arg)) lists.set(arg, [...(lists.get(arg) ?? []), value]);
      else flags.set(arg, value);
    } else if (BOOLEAN_FLAGS.has(arg)) flags.set(arg, true);
    else if (arg.startsWith("-")) throw new Error(`Unknown option ${arg}. Options: ${[...VALUE_FLAGS, ...REPEATED_FLAGS, ...BOOLEAN_FLAGS].join(" ")}.`);
    else positional.push(arg);
  }
  return { positional, flags, lists };
}

function numberFlag(flags: Parsed["flags"], name: string, min: number, max: number): number | undefined {
  const raw = flags.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}.`);
  return value;
}

/** Whether the runtime rebuilds on change: the one answer for the runtime and the banner. */
const watching = (flags: Parsed["flags"]) => !flags.has("--no-watch");

async function serve(stack: string, flags: Parsed["flags"], iamPrincipals: string[]): Promise<void> {
  if (!listStacks(ROOT).includes(stack)) throw new Error(`No stack "${stack}": stacks here are ${listStacks(ROOT).join(", ")}.`);
  const port = numberFlag(flags, "--port", 0, 65535) ?? 3000;
  const stackConfig = loadStackConfig(stack, ROOT);
  const secretKeys = stackConfig.placeholders.map((key) => key.split(":").pop()!);
  const { secrets, sources } = readLocalSecrets(secretKeys, process.env, SECRETS_FILE);
  const jwksUrl = flags.get("--jwks-url");
  const issuer = flags.get("--jwt-issuer");
  const audience = flags.get("--jwt-audience");
  console.log(`Evaluating the program for stack "${stack}"...`);
  const started = Date.now();
  const runtime = await startLocalRuntime({
    stack, stackConfig, root: ROOT, port, secrets,
    persistDir: flags.has("--persist") ? path.join(LOCAL_DIR, "dev", stack, "dynamodb") : undefined,
    signingKeyFile: path.join(LOCAL_DIR, "dev", "jwt-signing-key.json"),
    visibilityTimeoutSeconds: numberFlag(flags, "--visibility-timeout", 0, 43200),
    watch: watching(flags),
    iamPrincipals,
    jwt: typeof jwksUrl === "string" ? { jwksUrl, issuer: typeof issuer === "string" ? issuer : undefined, audiences: typeof audience === "string" ? [audience] : undefined } : undefined,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") throw new Error(`Port ${port} is in use; pick another with --port <n>.`);
    throw error;
  });
  for (const [key, source] of Object.entries(sources)) console.log(`Secret ${key} from ${path.relative(ROOT, source) || source}.`);
  console.log(formatBanner(runtime, stack, Date.now() - started, flags));
  writeState(stack, runtime);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping...");
    fs.rmSync(stateFile(stack), { force: true });
    await runtime.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

/** For a program whose table has a stream: how to write an item its consumer cannot process. */
function streamedTableHint(runtime: LocalRuntime, stackOption: string): string[] {
  const table = runtime.app.tables.find((t) => t.stream !== undefined);
  if (!table) return [];
  return [`  npm run dev -- put ${table.name} '{"${table.hashKey}":"nope"}'${stackOption}      # a record the worker cannot process`];
}

/** For a program with the orders API's routes (the orders program): how to create and read an order. */
function ordersApiHint(runtime: LocalRuntime): string[] {
  const api = runtime.app.apis.find((candidate) => ["POST /orders", "GET /orders/{orderId}"].every((key) => candidate.routes.some((route) => route.routeKey === key)));
  if (!api) return [];
  const url = runtime.apiUrls[api.name].replace(/\/$/, "");
  return [
    `  curl -s -X POST ${url}/orders -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -H 'idempotency-key: order-1' -d '{"customerId":"local-developer","items":[{"sku":"book","quantity":2}]}'`,
    `  curl -s ${url}/orders/<orderId> -H "authorization: Bearer $TOKEN"`,
  ];
}

/** What `npm run dev` prints once ready: what runs where, a token, commands to try. */
export function formatBanner(runtime: LocalRuntime, stack: string, ms: number, flags: Parsed["flags"]): string {
  const lines: string[] = [];
  lines.push("", `${runtime.project}, stack "${stack}", running locally (ready in ${(ms / 1000).toFixed(1)} s)`, "");
  for (const api of runtime.app.apis) {
    lines.push(`API ${api.name}: ${runtime.apiUrls[api.name]}`);
    for (const route of api.routes) {
      const fn = functionForArn(runtime.app, route.functionArn);
      lines.push(`  ${route.routeKey.padEnd(26)} ${{ jwt: "JWT ", lambda: "LMB ", iam: "IAM ", none: "open" }[route.auth]}  ${fn.name} (${fn.handler})`);
    }
  }
  lines.push(...describeRestApis(runtime));
  for (const mapping of runtime.app.mappings) {
    const queue = runtime.app.queues.find((q) => q.arn === mapping.queueArn)!;
    const fn = functionForArn(runtime.app, mapping.functionArn);
    const dlq = runtime.app.queues.find((q) => q.arn === queue.redrivePolicy?.deadLetterTargetArn);
    lines.push(`Queue ${queue.name} -> ${fn.name} (batch ${mapping.batchSize}, window ${mapping.batchWindowSeconds} s, concurrency ${mapping.maxConcurrency}, visibility ${runtime.sqs.byArn(queue.arn)!.visibilityTimeoutMs / 1000} s)${dlq ? `; DLQ ${dlq.name} after ${queue.redrivePolicy!.maxReceiveCount} receives` : ""}`);
  }
  lines.push(...runtime.app.streamMappings.map((mapping) => describeStreamMapping(runtime.app, mapping)));
  lines.push(...describeAsyncSources(runtime));
  lines.push(`Tables: ${runtime.app.tables.map((t) => t.name).join(", ")} (${flags.has("--persist") ? `on disk in .local/dev/${stack}/dynamodb` : "in memory; --persist keeps them"})`);
  lines.push(...describeNodes(runtime.functions.values()));
  lines.push(`Parameters: ${runtime.app.parameters.map((p) => `${p.name} (${p.type})`).join(", ") || "none"}`);
  lines.push(`Endpoints: DynamoDB ${runtime.endpoints.dynamodb}  SQS ${runtime.endpoints.sqs}  SSM ${runtime.endpoints.ssm}  SNS ${runtime.endpoints.sns}  EventBridge ${runtime.endpoints.eventbridge}  S3 ${runtime.endpoints.s3}${runtime.endpoints.kinesis ? `  Kinesis ${runtime.endpoints.kinesis}` : ""}`);
  for (const note of runtime.notes) lines.push(`Note: ${note}`);
  const token = Object.values(runtime.tokens)[0];
  if (token) {
    lines.push("", "A token for the JWT routes (local signing key, valid 12 h), acting for customer local-developer:", `  export TOKEN=${token}`);
  }
  lines.push(...describeIamKeys(runtime));
  const stackOption = stack === "dev" ? "" : ` --stack ${stack}`;
  lines.push("", "Try:",
    ...ordersApiHint(runtime),
    ...streamedTableHint(runtime, stackOption),
    `  npm run dev -- dlq list${stackOption}      # dead letters; "redrive" sends them back`,
    "", `Ctrl-C stops. ${watching(flags) ? "Handler changes rebuild and restart their functions." : "Handler changes are not watched (--no-watch): restart npm run dev to run new code."}`, "");
  return lines.join("\n");
}

/** For a program with IAM routes: the local principals' keys, to sign with (`curl --aws-sigv4`, an SDK client). */
function describeIamKeys(runtime: LocalRuntime): string[] {
  const { app } = runtime;
  if (![...app.apis, ...app.restApis].some((api) => api.routes.some((route) => route.auth === "iam"))) return [];
  return [
    "", `Keys for the IAM routes (SigV4, service ${SIGV4_SERVICE}, region ${runtime.region}; --iam-principal <arn> adds one):`,
    ...runtime.iamPrincipals.map((p) => `  ${p.identity.userArn}: export AWS_ACCESS_KEY_ID=${p.accessKeyId} AWS_SECRET_ACCESS_KEY=${p.secretAccessKey}`),
  ];
}

/** Banner lines for each REST API: its stage's URL (its own port), routes, usage plans and the local values of their keys. */
function describeRestApis(runtime: LocalRuntime): string[] {
  return runtime.app.restApis.flatMap((api) => [
    `REST API ${api.name}: ${runtime.apiUrls[api.name]} (stage ${api.stageName}${api.throttle ? `, throttle ${api.throttle.rateLimit}/s burst ${api.throttle.burstLimit} per method` : ""})`,
    ...api.routes.map((route) => {
      const fn = functionForArn(runtime.app, route.functionArn);
      const checks = [route.apiKeyRequired ? "x-api-key" : "", route.bodySchema ? "body model" : "", route.requiredParameters.length ? "parameters" : ""].filter(Boolean).join(", ");
      return `  ${route.routeKey.padEnd(26)} ${{ cognito: "COG ", lambda: "LMB ", iam: "IAM ", none: "open" }[route.auth]}  ${fn.name} (${fn.handler})${checks ? ` [${checks}]` : ""}`;
    }),
    ...api.usagePlans.map((plan) => `  plan ${plan.name}: ${[plan.throttle ? `${plan.throttle.rateLimit}/s burst ${plan.throttle.burstLimit}` : "", plan.quota ? `${plan.quota.limit} per ${plan.quota.period}` : ""].filter(Boolean).join(", ") || "no limits"}; keys ${plan.keys.map((name) => `${name}=${api.apiKeys.find((k) => k.name === name)?.value}`).join(" ")}`),
  ]);
}

/** Banner lines for the topics, rules and schedules, and where each one's failures end. */
function describeAsyncSources(runtime: LocalRuntime): string[] {
  const { asyncModel: model } = runtime;
  const fn = (arn: string) => runtime.app.functions.find((f) => f.arns.includes(arn))?.name ?? `${arn} (not in the program)`;
  return [
    ...model.subscriptions.map((s) => `Topic ${model.topics.find((t) => t.arn === s.topicArn)?.name ?? s.topicArn} -> ${fn(s.endpoint)}${s.filterPolicy ? ` (filter policy on ${s.filterPolicyScope})` : ""}`),
    ...model.targets.map((t) => `Rule ${t.ruleName} on bus ${t.eventBusName} -> ${fn(t.arn)}`),
    ...model.bucketNotifications.flatMap((n) => n.lambdaFunctions.map((f) => `Bucket ${n.bucket} (${f.events.join(", ")}${f.filterPrefix ? `, prefix ${f.filterPrefix}` : ""}${f.filterSuffix ? `, suffix ${f.filterSuffix}` : ""}) -> ${fn(f.functionArn)}`)),
    ...model.schedules.map((s) => {
      const next = runtime.asyncSources.scheduler.nextFirings().find((f) => f.name === s.name)?.next;
      const dlq = s.target.deadLetterArn ? `, DLQ ${s.target.deadLetterArn.split(":").pop()}` : "";
      return `Schedule ${s.name} ${s.expression}${s.timezone === "UTC" ? "" : ` (${s.timezone})`} -> ${fn(s.target.arn)}, next ${next?.toISOString() ?? "never"}; Scheduler retries ${s.target.maximumRetryAttempts} within ${s.target.maximumEventAgeSeconds} s${dlq}`;
    }),
  ];
}

export function writeState(stack: string, runtime: LocalRuntime, localDir = LOCAL_DIR): void {
  const asyncSources = asyncDeadLetterSources(runtime.asyncModel);
  const streamSources = streamDeadLetterSources(runtime.app);
  const queues: QueueInfo[] = runtime.app.queues.map((q) => ({
    name: q.name, url: q.url, arn: q.arn, deadLetterTargetArn: q.redrivePolicy?.deadLetterTargetArn,
    ...(asyncSources.some((s) => s.queueArn === q.arn) ? { asyncSources: asyncSources.filter((s) => s.queueArn === q.arn).map((s) => s.source) } : {}),
    ...(streamSources.some((s) => s.queueArn === q.arn) ? { streamSources: streamSources.filter((s) => s.queueArn === q.arn).map((s) => s.source) } : {}),
  }));
  const file = stateFile(stack, localDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ pid: process.pid, url: runtime.url, endpoints: runtime.endpoints, queues }, null, 2));
}

/** What a `npm run dev` subcommand prints; the tests collect it. */
type Print = (line: string) => void;

/** Runs `action` with an SQS client on the endpoint of the running `npm run dev` of `stack`. */
async function withRunningQueues(stack: string, localDir: string, action: (client: SQSClient, queues: QueueInfo[], endpoints: { dynamodb: string; scheduler?: string }) => Promise<void>): Promise<void> {
  const file = stateFile(stack, localDir);
  if (!fs.existsSync(file)) throw new Error(`No local runtime for stack "${stack}" is running (no ${path.relative(ROOT, file)}); start it with \`npm run dev${stack === "dev" ? "" : ` -- ${stack}`}\`.`);
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as { endpoints: { sqs: string; dynamodb: string; scheduler?: string }; queues: QueueInfo[] };
  const client = new SQSClient({ region: "eu-west-1", endpoint: state.endpoints.sqs, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    await action(client, state.queues, state.endpoints);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") throw new Error(`The local runtime of stack "${stack}" is not answering; start it again with \`npm run dev\`.`);
    throw error;
  } finally {
    client.destroy();
  }
}

async function dlq(action: DlqAction, client: SQSClient, queues: QueueInfo[], print: Print): Promise<void> {
  for (const queue of deadLetterQueues(queues)) {
    if (action === "redrive") {
      if (queue.sources.length === 0) {
        if (queue.asyncSources) print(`${queue.name}: holds failed asynchronous events of ${queue.asyncSources.join(", ")}; there is no source queue to redrive them to (replay them by publishing again)`);
        if (queue.streamSources) print(`${queue.name}: holds stream failure records of ${queue.streamSources.join(", ")} (shard and sequence numbers, not the data); there is nothing to redrive (read the range from the stream again)`);
        continue;
      }
      print(`${queue.name}: ${await redrive(client, queue.arn)} message(s) moved back to ${queue.sources.join(", ")}`);
      continue;
    }
    const messages = await peekDeadLetters(client, queue.url);
    print(`${queue.name} (DLQ of ${[...queue.sources, ...(queue.asyncSources ?? []), ...(queue.streamSources ?? [])].join(", ")}): ${await countMessages(client, queue.url)} message(s)`);
    for (const m of messages) print(`  ${m.messageId}  sent ${m.sentAt}  ${m.body.length > 120 ? `${m.body.slice(0, 117)}...` : m.body}`);
  }
}

/** What a subcommand names: the whole name, or the end of it after a dash (`fulfilment`). */
function findNamed<T>(items: T[], nameOf: (item: T) => string, name: string, kind: string): T {
  const exact = items.find((item) => nameOf(item) === name);
  if (exact) return exact;
  const matches = items.filter((item) => nameOf(item).endsWith(`-${name}`));
  if (matches.length === 1) return matches[0];
  const names = items.map(nameOf).join(", ");
  throw new Error(matches.length === 0 ? `No ${kind} "${name}": the ${kind}s are ${names}.` : `"${name}" names ${matches.length} ${kind}s (${matches.map(nameOf).join(", ")}); give the whole name.`);
}

/** The queue a `send` names. */
export function findQueue(queues: QueueInfo[], name: string): QueueInfo {
  return findNamed(queues, (q) => q.name, name, "queue");
}

async function send(queueName: string, body: string, client: SQSClient, queues: QueueInfo[], print: Print): Promise<void> {
  const queue = findQueue(queues, queueName);
  const { MessageId } = await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
  print(`${queue.name}: sent message ${MessageId}`);
}

/** Writes one item, given as plain JSON, into a table of the running runtime (through its stream proxy). */
async function put(tableName: string, item: string, endpoint: string, print: Print): Promise<void> {
  let value: unknown;
  try {
    value = JSON.parse(item);
  } catch {
    throw new Error(`put: the item is not JSON; write it as plain JSON, e.g. '{"orderId":"nope"}'.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`put: the item must be a JSON object, e.g. '{"orderId":"nope"}'.`);
  const client = new DynamoDBClient({ region: "eu-west-1", endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  try {
    const { TableNames = [] } = await client.send(new ListTablesCommand({}));
    const table = findNamed(TableNames, (name) => name, tableName, "table");
    await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: table, Item: value as Record<string, unknown> }));
    print(`${table}: put ${item}`);
  } finally {
    client.destroy();
  }
}

/** Fires a schedule through the running runtime's Scheduler control endpoint. */
async function fire(schedule: string, endpoint: string | undefined, print: Print): Promise<void> {
  if (!endpoint) throw new Error("The running local runtime predates schedules; restart `npm run dev`.");
  const response = await fetch(`${endpoint}/schedules/${encodeURIComponent(schedule)}/fire`, { method: "POST" });
  const answer = await response.json() as { message?: string; schedule?: string; executionId?: string; target?: string };
  if (!response.ok) throw new Error(answer.message);
  print(`${answer.schedule}: fired now (execution ${answer.executionId}) -> ${answer.target}`);
}

type DlqAction = "list" | "redrive";

/** A command line of `npm run dev`, read without running anything (the docs test checks the documented ones). */
export type DevCommand =
  | { kind: "help" }
  | { kind: "serve"; stack: string; flags: Parsed["flags"]; iamPrincipals: string[] }
  | { kind: "dlq"; stack: string; action: DlqAction }
  | { kind: "send"; stack: string; queue: string; body: string }
  | { kind: "put"; stack: string; table: string; item: string }
  | { kind: "fire"; stack: string; schedule: string };

export function parseDevCommand(argv: string[]): DevCommand {
  const { positional, flags, lists } = parseArgs(argv);
  if (flags.has("--help")) return { kind: "help" };
  const stackFlag = flags.get("--stack");
  const stack = typeof stackFlag === "string" ? stackFlag : "dev";
  if (positional[0] === "dlq") {
    const action = positional[1] ?? "list";
    if (action !== "list" && action !== "redrive") throw new Error(`dlq ${action}: use "list" or "redrive".`);
    return { kind: "dlq", stack, action };
  }
  if (positional[0] === "send") {
    if (positional.length !== 3) throw new Error(`send takes a queue and a message body, e.g. send fulfilment '{"orderId":"nope"}'; got ${positional.length - 1} argument(s).`);
    return { kind: "send", stack, queue: positional[1], body: positional[2] };
  }
  if (positional[0] === "put") {
    if (positional.length !== 3) throw new Error(`put takes a table and an item, e.g. put orders '{"orderId":"nope"}'; got ${positional.length - 1} argument(s).`);
    return { kind: "put", stack, table: positional[1], item: positional[2] };
  }
  if (positional[0] === "fire") {
    if (positional.length !== 2) throw new Error(`fire takes one schedule, e.g. fire nightly; got ${positional.length - 1} argument(s).`);
    return { kind: "fire", stack, schedule: positional[1] };
  }
  if (positional.length > 1) throw new Error(`One stack at a time; got ${positional.join(", ")}.`);
  const iamPrincipals = lists.get("--iam-principal") ?? [];
  // A mistyped ARN fails now, not after the program's evaluation.
  for (const arn of iamPrincipals) localPrincipal(arn);
  return { kind: "serve", stack: positional[0] ?? "dev", flags, iamPrincipals };
}

/** Runs a command line of `npm run dev`; `localDir` holds the state of the running runtime. */
export async function main(argv: string[], { localDir = LOCAL_DIR, print = console.log as Print } = {}): Promise<void> {
  const command = parseDevCommand(argv);
  switch (command.kind) {
    case "help":
      return print(fs.readFileSync(__filename, "utf8").split("*/")[0].replace(/^\/\*\*?|^ \* ?/gm, ""));
    case "dlq":
      return withRunningQueues(command.stack, localDir, (client, queues) => dlq(command.action, client, queues, print));
    case "send":
      return withRunningQueues(command.stack, localDir, (client, queues) => send(command.queue, command.body, client, queues, print));
    case "put":
      return withRunningQueues(command.stack, localDir, (_client, _queues, endpoints) => put(command.table, command.item, endpoints.dynamodb, print));
    case "fire":
      return withRunningQueues(command.stack, localDir, (_client, _queues, endpoints) => fire(command.schedule, endpoints.scheduler, print));
    case "serve":
      return serve(command.stack, command.flags, command.iamPrincipals);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`dev: ${error.message}`);
    if (/secret/i.test(error.message)) console.error(`Secrets come from LOCAL_SECRET_<KEY_IN_UPPER_SNAKE> variables or ${path.relative(ROOT, SECRETS_FILE)}.`);
    process.exit(1);
  });
}
