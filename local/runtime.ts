/**
 * The local runtime: evaluates the program for a stack with the recording engine (as the
 * plan does), then serves what it registered on loopback: the HTTP and REST APIs, the functions in
 * child processes, DynamoDB (dynalite), SQS with its event source mappings and DLQs, and
 * Parameter Store. Functions reach the services through the SDK's standard endpoint
 * variables (AWS_ENDPOINT_URL_<SERVICE>) and queue URLs on the local SQS endpoint; no
 * handler code changes.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { watch } from "chokidar";
import { BUNDLE_FILE, bundleHandlerCached, parseHandler, resolveHandlerFile, type Bundle } from "../components/bundling";
import { evaluateProgram, MOCK_ACCOUNT_ID } from "../tools/mock-engine";
import { loadStackConfig, type StackConfig } from "../tools/stack-config";
import { describeIgnoredDeployments, functionForArn, readApp, type AppModel, type FunctionModel } from "./app";
import { readAsyncModel, type AsyncModel } from "./async-model";
import type { Clock } from "./async-invoke";
import { LocalAsync } from "./async-runtime";
import { startDynamo, type LocalDynamo } from "./dynamodb";
import { QueuePoller, type BatchLog } from "./event-sources";
import { LocalFunction, nodeForRuntime } from "./functions";
import { HTTP_API_INTEGRATION_TIMEOUT_SECONDS } from "../components/limits";
import type { RequestLog } from "./gateway";
import { LocalHttpApi, type RouteDefinition } from "./http-api";
import { LocalIssuer, remoteAuthorizer, type JwtAuthorizer, type JwtConfig } from "./jwt";
import { LocalLambdaAuthorizer } from "./lambda-authorizer";
import { serveRestApis } from "./rest-runtime";
import { defaultPrincipalArn, localPrincipal, SigV4Verifier, type LocalPrincipal } from "./sigv4";
import { RuntimeLock } from "./runtime-lock";
import { LocalSqs } from "./sqs";
import { LocalSsm } from "./ssm";
import { startStreamPollers, startStreamServices } from "./stream-runtime";

export interface LocalRuntimeOptions {
  /** The stack whose Pulumi.<stack>.yaml configures the program. @default "dev" */
  stack?: string;
  /** The project root (Pulumi.yaml, index.ts). @default process.cwd() */
  root?: string;
  /** The program file. @default <root>/index.ts */
  programFile?: string;
  /** The stack's config; read from the stack files when absent. */
  stackConfig?: StackConfig;
  /** Values of the stack's secret config keys (`secret: true` in Pulumi.yaml), which the stack files cannot hold. */
  secrets?: Record<string, string>;
  /** Port of the (first) HTTP API. @default 0 (a free port) */
  port?: number;
  /** Keep DynamoDB data in this folder (LevelDB). @default in memory */
  persistDir?: string;
  /** Where bundles are written; one runtime at a time per folder, held by `<workDir>.lock`. @default <root>/.local/dev/<stack>/functions */
  workDir?: string;
  /** Keep the local JWT signing key in this file so tokens survive restarts. @default a new key per run */
  signingKeyFile?: string;
  /** Accept tokens of a real issuer instead of the local key. */
  jwt?: { jwksUrl: string; issuer?: string; audiences?: string[] };
  /** IAM role or user ARNs with local access keys for IAM routes, besides `arn:aws:iam::<mock account>:role/local-service`. */
  iamPrincipals?: string[];
  /** Override every queue's visibility timeout, in seconds (fractions allowed), e.g. to retry failed messages sooner. */
  visibilityTimeoutSeconds?: number;
  /** Rebuild and restart functions when their source changes. @default false */
  watch?: boolean;
  /** The clock of asynchronous retries, event ages and schedules (tests drive it). @default the system clock */
  asyncClock?: Clock;
  /** How much faster asynchronous time runs than AWS's (retry waits, event ages). @default 60 */
  asyncTimeScale?: number;
  /** Where log lines go. @default console.log */
  log?: (line: string) => void;
}

export interface LocalRuntime {
  /** The Pulumi project (Pulumi.yaml's `name`). */
  project: string;
  stack: string;
  app: AppModel;
  /** Base URL of each HTTP API, and of each REST API's stage, by API name. */
  apiUrls: Record<string, string>;
  /** The first API's base URL. */
  url: string;
  endpoints: { dynamodb: string; sqs: string; ssm: string; sns: string; eventbridge: string; s3: string; scheduler: string; kinesis?: string };
  /** The topics, rules, schedules and asynchronous invocation configs of the program. */
  asyncModel: AsyncModel;
  /** SNS, EventBridge, S3, the Scheduler and asynchronous invocation. */
  asyncSources: LocalAsync;
  functions: Map<string, LocalFunction>;
  sqs: LocalSqs;
  ssm: LocalSsm;
  /** A token the local key signed for each JWT authorizer (by authorizer id), with every scope the routes use; an ID token for each REST Cognito authorizer. */
  tokens: Record<string, string>;
  /** The principals whose access keys IAM routes accept (SigV4, service `execute-api`, the stack's region); the default one first. */
  iamPrincipals: LocalPrincipal[];
  /** The stack's region (`aws:region`, default us-east-1): the region IAM routes' signatures are scoped to. */
  region: string;
  /**
   * A token from the local key for a JWT authorizer, with the given scopes (claims as
   * Cognito's access tokens); its subject, the customer it acts for, is `local-developer`
   * unless overridden.
   */
  issueToken(authorizerId: string, scopes: string[], overrides?: { subject?: string; audience?: string; issuer?: string; expiresIn?: string | number }): Promise<string>;
  /** Things the developer should know (generated secrets, placeholders). */
  notes: string[];
  /** Rebuilds every function from source; restarts those whose code changed. Returns their names. */
  rebuild(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Reads secrets for a stack: `LOCAL_SECRET_<KEY_IN_UPPER_SNAKE>` variables, then a JSON file `{ key: value }`. */
export function readLocalSecrets(keys: string[], env: NodeJS.ProcessEnv, file?: string): { secrets: Record<string, string>; sources: Record<string, string> } {
  let fromFile: Record<string, unknown> = {};
  if (file && fs.existsSync(file)) {
    try {
      fromFile = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
      throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const secrets: Record<string, string> = {};
  const sources: Record<string, string> = {};
  for (const key of keys) {
    const variable = secretVariable(key);
    if (env[variable]) {
      secrets[key] = env[variable]!;
      sources[key] = variable;
    } else if (typeof fromFile[key] === "string" && fromFile[key] !== "") {
      secrets[key] = fromFile[key] as string;
      sources[key] = file!;
    }
  }
  return { secrets, sources };
}

/** `apiSigningKey` -> `LOCAL_SECRET_API_SIGNING_KEY`. */
export function secretVariable(key: string): string {
  return `LOCAL_SECRET_${key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^A-Za-z0-9]+/g, "_").toUpperCase()}`;
}

async function recordedBundle(code: unknown): Promise<string | undefined> {
  try {
    const assets = await (code as { assets: Promise<Record<string, { text: Promise<string> }>> }).assets;
    return await assets[BUNDLE_FILE]?.text;
  } catch {
    return undefined;
  }
}

/** Execution environments per function when it has no reserved concurrency. */
const DEFAULT_ENVIRONMENTS_PER_FUNCTION = 4;

/** The source file of a function's handler, or undefined when there is none. */
function handlerEntry(fn: FunctionModel, root: string): string | undefined {
  const handler = parseHandler(fn.handler);
  return handler && resolveHandlerFile(handler.modulePath, root);
}

/**
 * Builds a function's bundle from its handler, as SecureFunction does and through the same
 * cache: a handler none of whose input files changed costs no esbuild run.
 */
function buildFunction(fn: FunctionModel, root: string): Bundle {
  const entry = handlerEntry(fn, root);
  if (!entry) throw new Error(`${fn.name}: handler ${fn.handler} not found under ${root}`);
  return bundleHandlerCached(entry, fn.exportName, root, fn.bundling);
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const stack = options.stack ?? "dev";
  const root = path.resolve(options.root ?? process.cwd());
  const log = options.log ?? ((line: string) => console.log(line));
  const notes: string[] = [];
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  // Before anything else: a second runtime on the same work folder would delete this one's bundles.
  const workDir = options.workDir ?? path.join(root, ".local", "dev", stack, "functions");
  const lock = RuntimeLock.acquire(`${workDir}.lock`, stack);
  stops.push(async () => lock.release());

  try {
    const sqs = new LocalSqs(MOCK_ACCOUNT_ID, (event) => log(`SQS  ${event.queue}: message ${event.messageId} received ${event.receiveCount} times, moved to ${event.deadLetterQueue}`));
    const sqsEndpoint = await sqs.start();
    stops.push(() => sqs.stop());

    // The config, with real values for secrets the stack files cannot hold.
    const stackConfig: StackConfig = options.stackConfig ?? loadStackConfig(stack, root);
    const config = { ...stackConfig.config };
    for (const fullKey of stackConfig.placeholders) {
      const key = fullKey.split(":").pop()!;
      const given = options.secrets?.[key];
      config[fullKey] = given ?? randomBytes(32).toString("hex");
      if (!given) notes.push(`${key}: no value in ${secretVariable(key)} or .local/secrets.json; generated a random one for this run.`);
    }
    const region = config["aws:region"] ?? "us-east-1";

    const previousDirectory = process.cwd();
    process.chdir(root);
    let evaluation;
    try {
      evaluation = await evaluateProgram(options.programFile ?? path.join(root, "index.ts"), {
        project: stackConfig.project, stack: stackConfig.stack, config, secretKeys: stackConfig.secretKeys, state: { queueEndpoint: sqsEndpoint },
      });
    } finally {
      process.chdir(previousDirectory);
    }
    const app = readApp(evaluation.resources);
    const ignoredDeployments = describeIgnoredDeployments(app);
    if (ignoredDeployments) notes.push(ignoredDeployments);

    const ssm = new LocalSsm(region, MOCK_ACCOUNT_ID);
    for (const parameter of app.parameters) ssm.put(parameter);
    const ssmEndpoint = await ssm.start();
    stops.push(() => ssm.stop());

    const dynamo: LocalDynamo = await startDynamo(app.tables, { path: options.persistDir, region });
    stops.push(() => dynamo.stop());
    // Streams: table writes go through the streams proxy; Kinesis is kinesalite.
    const streaming = await startStreamServices(app, dynamo.endpoint, region);
    stops.push(() => streaming.stop());

    // Asynchronous sources: their endpoints now (the functions' environment names them), the functions attached below.
    const asyncModel = readAsyncModel(evaluation.resources, region, MOCK_ACCOUNT_ID);
    const asyncSources = new LocalAsync({ model: asyncModel, functions: app.functions, sqs, region, accountId: MOCK_ACCOUNT_ID, log, clock: options.asyncClock, timeScale: options.asyncTimeScale, s3Directory: `${workDir}.s3` });
    const asyncEndpoints = await asyncSources.start();
    stops.push(() => asyncSources.stop());

    for (const queue of app.queues) {
      sqs.addQueue({ ...queue, ...(options.visibilityTimeoutSeconds !== undefined ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds } : {}) }, queue.url);
    }

    // Functions: the recorded bundle (the code as deployed) in child processes of their runtime's Node.
    const versions = new Map<string, { version: number; text: string }>();
    const writeBundle = (fn: FunctionModel, files: Record<string, string>): string => {
      const version = (versions.get(fn.name)?.version ?? 0) + 1;
      const directory = path.join(workDir, fn.name, `v${version}`);
      fs.mkdirSync(directory, { recursive: true });
      for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(directory, file), text);
      versions.set(fn.name, { version, text: files[BUNDLE_FILE] });
      return path.join(directory, BUNDLE_FILE);
    };
    fs.rmSync(workDir, { recursive: true, force: true });
    stops.push(async () => fs.rmSync(workDir, { recursive: true, force: true }));

    const functions = new Map<string, LocalFunction>();
    for (const fn of app.functions) {
      const recorded = await recordedBundle(fn.code);
      const files = recorded !== undefined ? { [BUNDLE_FILE]: recorded } : buildFunction(fn, root).files;
      const environment: Record<string, string> = {
        ...fn.environment,
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroupName,
        AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomBytes(16).toString("hex")}`,
        AWS_LAMBDA_LOG_FORMAT: "JSON",
        AWS_LAMBDA_LOG_LEVEL: fn.applicationLogLevel,
        AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        _HANDLER: `index.${fn.exportName}`,
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_SESSION_TOKEN: "local",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_ENDPOINT_URL_DYNAMODB: streaming.dynamodbEndpoint,
        ...(streaming.kinesisEndpoint ? { AWS_ENDPOINT_URL_KINESIS: streaming.kinesisEndpoint } : {}),
        AWS_ENDPOINT_URL_SQS: sqsEndpoint,
        AWS_ENDPOINT_URL_SSM: ssmEndpoint,
        AWS_ENDPOINT_URL_SNS: asyncEndpoints.sns,
        AWS_ENDPOINT_URL_EVENTBRIDGE: asyncEndpoints.eventbridge,
        AWS_ENDPOINT_URL_S3: asyncEndpoints.s3,
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        // A function may run on an older Node than its runtime's (nodeForRuntime); the SDK's warning would repeat in every environment.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      };
      if (app.apis.some((api) => api.routes.some((r) => fn.arns.includes(r.functionArn))) && fn.timeoutSeconds > HTTP_API_INTEGRATION_TIMEOUT_SECONDS) {
        notes.push(`${fn.name}: timeout ${fn.timeoutSeconds} s is above the HTTP API's ${HTTP_API_INTEGRATION_TIMEOUT_SECONDS} s; locally the function's own timeout applies.`);
      }
      const maxConcurrency = fn.reservedConcurrency && fn.reservedConcurrency > 0 ? fn.reservedConcurrency : DEFAULT_ENVIRONMENTS_PER_FUNCTION;
      functions.set(fn.name, new LocalFunction({
        name: fn.name, functionName: fn.functionName, arn: fn.arn, exportName: fn.exportName, timeoutSeconds: fn.timeoutSeconds,
        memorySize: fn.memorySize, environment, maxConcurrency, node: nodeForRuntime(fn.runtime),
      }, writeBundle(fn, files), log));
    }
    stops.push(() => Promise.all([...functions.values()].map((f) => f.close())));
    await asyncSources.attach(functions);
    // Retries and schedules end before the functions they would call; the services after.
    stops.push(() => asyncSources.stopDeliveries());

    // HTTP APIs with their authorizers; IAM routes of HTTP and REST APIs take the local principals' signatures.
    const iamPrincipals = [...new Set([defaultPrincipalArn(MOCK_ACCOUNT_ID), ...(options.iamPrincipals ?? [])])].map(localPrincipal);
    const sigv4 = new SigV4Verifier(iamPrincipals, region);
    const issuer = await LocalIssuer.create(options.signingKeyFile);
    const tokens: Record<string, string> = {};
    const jwtConfigs: Record<string, JwtConfig> = {};
    const apiUrls: Record<string, string> = {};
    // One invoker for every API's routes and authorizers.
    const invoke = (name: string, event: unknown, requestId: string) => functions.get(name)!.invoke(event, requestId);
    for (const [index, api] of app.apis.entries()) {
      const authorizers: Record<string, JwtAuthorizer> = {};
      for (const [id, recorded] of Object.entries(api.authorizers)) {
        const jwtConfig: JwtConfig = { issuer: options.jwt?.issuer ?? recorded.issuer, audiences: options.jwt?.audiences ?? recorded.audiences };
        jwtConfigs[id] = jwtConfig;
        authorizers[id] = options.jwt ? remoteAuthorizer(jwtConfig, options.jwt.jwksUrl) : issuer.authorizer(jwtConfig);
        if (!options.jwt) {
          const scopes = [...new Set(api.routes.filter((r) => r.authorizerId === id).flatMap((r) => r.scopes))];
          tokens[id] = await issuer.issue(jwtConfig, { scopes });
        }
      }
      const lambdaAuthorizers = Object.fromEntries(Object.entries(api.lambdaAuthorizers).map(([id, recorded]) => [id, new LocalLambdaAuthorizer({
        functionName: functionForArn(app, recorded.functionArn).name, identitySources: recorded.identitySources, resultTtlSeconds: recorded.resultTtlSeconds, region,
      }, invoke)]));
      const routes: RouteDefinition[] = api.routes.map((route) => ({
        routeKey: route.routeKey,
        functionName: functionForArn(app, route.functionArn).name,
        auth: route.auth,
        scopes: route.scopes,
        authorizer: route.auth === "jwt" && route.authorizerId ? authorizers[route.authorizerId] : undefined,
        lambdaAuthorizer: route.auth === "lambda" && route.authorizerId ? lambdaAuthorizers[route.authorizerId] : undefined,
      }));
      const httpApi = new LocalHttpApi({
        routes,
        apiId: api.apiId,
        accountId: MOCK_ACCOUNT_ID,
        sigv4,
        invoke,
        onRequest: (entry) => log(formatRequest(entry)),
      });
      apiUrls[api.name] = await httpApi.start(index === 0 ? options.port ?? 0 : 0);
      stops.push(() => httpApi.stop());
    }

    // REST APIs, each stage on its own port; their Cognito authorizers take tokens of the same issuer.
    const restApis = await serveRestApis({
      app, issuer, region, accountId: MOCK_ACCOUNT_ID, jwt: options.jwt, sigv4, invoke,
      onRequest: (entry) => log(formatRequest(entry, "REST")),
    });
    stops.push(() => restApis.stop());
    Object.assign(apiUrls, restApis.urls);
    for (const [id, config] of Object.entries(restApis.cognito)) {
      jwtConfigs[id] = config;
      if (!options.jwt) tokens[id] = await issuer.issue(config, { tokenUse: "id" });
    }

    // Event source mappings.
    const pollers: QueuePoller[] = [];
    for (const mapping of app.mappings) {
      const queue = sqs.byArn(mapping.queueArn);
      if (!queue) throw new Error(`Mapping ${mapping.name} reads ${mapping.queueArn}, which the program does not define.`);
      const fn = functions.get(functionForArn(app, mapping.functionArn).name)!;
      const poller = new QueuePoller(sqs, queue, fn, mapping, region, (entry) => log(formatBatch(entry)));
      poller.start();
      pollers.push(poller);
    }
    // Pollers stop before the functions and queues they use.
    stops.push(() => Promise.all(pollers.map((p) => p.stop())));
    stops.push(await startStreamPollers(app, streaming, functions, { sqs, sns: { local: asyncSources.sns, topics: asyncModel.topics } }, log));

    const rebuild = async (): Promise<string[]> => {
      const changed: string[] = [];
      for (const fn of app.functions) {
        let bundle: Bundle;
        try {
          bundle = buildFunction(fn, root);
        } catch (error) {
          log(`RELOAD ${fn.name}: build failed, still running the previous code: ${(error as Error).message}`);
          continue;
        }
        if (bundle.files[BUNDLE_FILE] === versions.get(fn.name)?.text) continue;
        functions.get(fn.name)!.replaceCode(writeBundle(fn, bundle.files));
        changed.push(fn.name);
        log(`RELOAD ${fn.name}: rebuilt (${(bundle.bytes / 1024).toFixed(0)} KB); the next invocation starts cold`);
      }
      return changed;
    };
    if (options.watch) stops.push(await watchSources(app, root, rebuild, log));
    lock.recordUrl(Object.values(apiUrls)[0]);

    return {
      project: stackConfig.project, stack, app, apiUrls, url: Object.values(apiUrls)[0] ?? "",
      endpoints: { dynamodb: streaming.dynamodbEndpoint, sqs: sqsEndpoint, ssm: ssmEndpoint, ...asyncEndpoints, ...(streaming.kinesisEndpoint ? { kinesis: streaming.kinesisEndpoint } : {}) },
      asyncModel, asyncSources, functions, sqs, ssm, tokens, iamPrincipals, region, notes, rebuild, stop: stopAll,
      issueToken: (id, scopes, overrides) => {
        if (!jwtConfigs[id]) throw new Error(`No JWT authorizer ${id}; authorizers: ${Object.keys(jwtConfigs).join(", ")}`);
        // A REST Cognito method without scopes takes an ID token.
        return issuer.issue(jwtConfigs[id], { scopes, tokenUse: id in restApis.cognito && scopes.length === 0 ? "id" : "access", ...overrides });
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Watches the folders of the handlers' sources; a change rebuilds (debounced). Returns the
 * stopper once the watch is in place. chokidar, not fs.watch: on Linux fs.watch follows the
 * file's inode, so a save by rename (sed -i, vim, safe write, git checkout) left it deaf.
 */
async function watchSources(app: AppModel, root: string, rebuild: () => Promise<string[]>, log: (line: string) => void): Promise<() => Promise<void>> {
  const folders = new Set<string>();
  for (const fn of app.functions) {
    const entry = handlerEntry(fn, root);
    if (!entry) continue;
    const relative = path.relative(root, entry);
    folders.add(relative.startsWith("..") || path.isAbsolute(relative) ? path.dirname(entry) : path.join(root, relative.split(path.sep)[0]));
  }
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { running = running.then(() => rebuild().then(() => undefined, (error) => log(`RELOAD failed: ${(error as Error).message}`))); }, 150);
  };
  const watcher = watch([...folders], { ignoreInitial: true }).on("all", schedule).on("error", (error) => log(`WATCH failed: ${(error as Error).message}`));
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  log(`WATCH ${[...folders].map((f) => path.relative(root, f) || ".").join(", ")}: a change rebuilds and restarts the functions it affects`);
  return async () => {
    clearTimeout(timer);
    await watcher.close();
    await running;
  };
}

const ms = (value: number) => `${Math.round(value)} ms`;

export function formatRequest(entry: RequestLog, kind: "HTTP" | "REST" = "HTTP"): string {
  const fn = entry.functionName ? ` ${entry.functionName} ${entry.cold ? "cold" : "warm"}` : "";
  const route = entry.routeKey ? ` (${entry.routeKey})` : "";
  return `${kind} ${entry.method} ${entry.path}${route} -> ${entry.status} ${ms(entry.ms)}${fn}${entry.note ? ` [${entry.note}]` : ""}`;
}

export function formatBatch(entry: BatchLog): string {
  if (entry.size === 0) return `SQS  ${entry.queue} -> ${entry.functionName}: ${entry.note}`;
  return `SQS  ${entry.queue} -> ${entry.functionName} batch of ${entry.size}: ${entry.size - entry.failed} ok, ${entry.failed} failed ${ms(entry.ms)} ${entry.cold ? "cold" : "warm"}${entry.note ? ` [${entry.note}]` : ""}`;
}
