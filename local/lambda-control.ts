/**
 * A local stand-in of the Lambda control plane, for the deployment runtime's tests and the
 * follower: functions with published versions and aliases (a version plus routing
 * weights), served on loopback in the REST JSON protocol the SDK v3 Lambda client speaks,
 * for GetAlias and Invoke of a version (the code runs through a pluggable invoker). The
 * local CodeDeploy (local/codedeploy.ts) moves the aliases through `setAlias`, as CodeDeploy
 * does with UpdateAlias. Every call is recorded by action name, so a test can assert that
 * a runtime called nothing it is not granted.
 */
import type { Server } from "node:http";
import { AwsError, awsServer, type ProtocolCodec } from "./aws-server";
import { closeServer, listen } from "./loopback";

export interface LocalAlias {
  functionVersion: string;
  /** Version -> share of the traffic (0-1) that goes to it instead of `functionVersion`. */
  weights: Record<string, number>;
}

/** Runs a version's code: what Invoke answers. */
export type VersionInvoker = (functionName: string, version: string, payload: unknown) => Promise<{ payload: unknown; functionError?: string }>;

interface LocalFunctionState {
  versions: Set<string>;
  aliases: Map<string, LocalAlias>;
}

/** Raw answers (Invoke's payload and headers) pass the codec untouched. */
const RAW = Symbol("raw");
interface RawAnswer {
  [RAW]: true;
  body: string;
  headers: Record<string, string>;
}

const notFound = (message: string) => new AwsError("ResourceNotFoundException", message, 404);

/** `name`, `name:qualifier`, or a function ARN (with or without a qualifier) -> name and qualifier. */
function parseFunctionName(value: string): { name: string; qualifier?: string } {
  const arn = /^arn:[^:]+:lambda:[^:]+:\d{12}:function:([^:]+)(?::(.+))?$/.exec(value);
  if (arn) return { name: arn[1], qualifier: arn[2] };
  const [name, qualifier] = value.split(":");
  return { name, qualifier };
}

/** The routes of the REST JSON protocol this stand-in answers (Lambda's API reference, 2015-03-31). */
const ROUTES: Array<{ method: string; pattern: RegExp; operation: string }> = [
  { method: "GET", pattern: /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, operation: "GetAlias" },
  { method: "POST", pattern: /^\/2015-03-31\/functions\/([^/]+)\/invocations$/, operation: "Invoke" },
];

/** Lambda's REST JSON protocol: the operation is the method and path; errors carry `x-amzn-errortype`. */
const restJsonCodec: ProtocolCodec = {
  description: "the Lambda REST JSON protocol (/2015-03-31/functions/...)",
  accepts: (request) => (request.url ?? "").startsWith("/2015-03-31/"),
  decode(request, body) {
    const url = new URL(request.url ?? "/", "http://localhost");
    for (const route of ROUTES) {
      const match = route.method === request.method ? route.pattern.exec(url.pathname) : null;
      if (!match) continue;
      const [, fn, alias] = match.map((part) => decodeURIComponent(part ?? ""));
      return {
        operation: route.operation,
        input: { FunctionName: fn, Name: alias, Qualifier: url.searchParams.get("Qualifier") ?? undefined, InvocationType: request.headers["x-amz-invocation-type"], Payload: body },
      };
    }
    return { operation: `${request.method} ${url.pathname}`, input: {} };
  },
  encode(_operation, output) {
    const raw = output as RawAnswer;
    if (raw?.[RAW]) return { status: 200, contentType: "application/json", body: raw.body, headers: raw.headers };
    return { status: 200, contentType: "application/json", body: JSON.stringify(output ?? {}) };
  },
  encodeError: (error) => ({
    status: error.status,
    contentType: "application/json",
    body: JSON.stringify({ Type: "User", message: error.message }),
    headers: { "x-amzn-errortype": error.type },
  }),
};

export class LocalLambdaControl {
  private readonly functions = new Map<string, LocalFunctionState>();
  private server?: Server;
  /** Every call answered, by IAM action name (`lambda:GetAlias`), in order. */
  readonly calls: string[] = [];
  endpoint = "";

  constructor(
    private readonly invoker: VersionInvoker,
    readonly region = "eu-west-1",
    readonly accountId = "123456789012",
  ) {}

  /** Adds a function with published versions and an alias on `aliasVersion`. */
  addFunction(name: string, versions: string[], aliasName: string, aliasVersion: string): void {
    this.functions.set(name, { versions: new Set(versions), aliases: new Map([[aliasName, { functionVersion: aliasVersion, weights: {} }]]) });
  }

  alias(functionName: string, aliasName: string): LocalAlias {
    const alias = this.function(functionName).aliases.get(aliasName);
    if (!alias) throw notFound(`Alias not found: ${this.arn(functionName)}:${aliasName}`);
    return { functionVersion: alias.functionVersion, weights: { ...alias.weights } };
  }

  /** Points an alias at a version, with weights for another (CodeDeploy's UpdateAlias). */
  setAlias(functionName: string, aliasName: string, alias: LocalAlias): void {
    const fn = this.function(functionName);
    for (const version of [alias.functionVersion, ...Object.keys(alias.weights)]) {
      if (!fn.versions.has(version)) throw notFound(`Function not found: ${this.arn(functionName)}:${version}`);
    }
    if (!fn.aliases.has(aliasName)) throw notFound(`Alias not found: ${this.arn(functionName)}:${aliasName}`);
    fn.aliases.set(aliasName, { functionVersion: alias.functionVersion, weights: { ...alias.weights } });
  }

  hasVersion(functionName: string, version: string): boolean {
    return this.functions.get(functionName)?.versions.has(version) ?? false;
  }

  async start(port = 0): Promise<string> {
    this.server = awsServer({
      service: "Lambda",
      codecs: [restJsonCodec],
      operations: {
        GetAlias: (input) => this.record("lambda:GetAlias", () => this.getAlias(String(input.FunctionName), String(input.Name))),
        Invoke: (input) => this.record("lambda:InvokeFunction", () => this.invoke(input)),
      },
    });
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  private record<T>(action: string, run: () => T): T {
    this.calls.push(action);
    return run();
  }

  private arn(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
  }

  private function(name: string): LocalFunctionState {
    const fn = this.functions.get(name);
    if (!fn) throw notFound(`Function not found: ${this.arn(name)}`);
    return fn;
  }

  private getAlias(functionName: string, aliasName: string) {
    const { name } = parseFunctionName(functionName);
    const alias = this.alias(name, aliasName);
    const weighted = Object.keys(alias.weights).length > 0;
    return {
      AliasArn: `${this.arn(name)}:${aliasName}`,
      Name: aliasName,
      FunctionVersion: alias.functionVersion,
      ...(weighted ? { RoutingConfig: { AdditionalVersionWeights: alias.weights } } : {}),
    };
  }

  private async invoke(input: Record<string, any>): Promise<RawAnswer> {
    const parsed = parseFunctionName(String(input.FunctionName));
    const version = input.Qualifier ?? parsed.qualifier ?? "$LATEST";
    const fn = this.function(parsed.name);
    if (input.InvocationType !== undefined && input.InvocationType !== "RequestResponse") {
      throw new AwsError("InvalidParameterValueException", `The local Lambda control plane invokes synchronously only (RequestResponse); got ${input.InvocationType}.`);
    }
    // Callers of a deployment invoke versions; an alias would hide which one answered.
    if (!fn.versions.has(version)) throw notFound(`Function not found: ${this.arn(parsed.name)}:${version} (the stand-in invokes published versions only)`);
    let payload: unknown;
    try {
      payload = input.Payload ? JSON.parse(String(input.Payload)) : {};
    } catch {
      throw new AwsError("InvalidRequestContentException", "Could not parse request body into json");
    }
    const result = await this.invoker(parsed.name, version, payload);
    return {
      [RAW]: true,
      body: JSON.stringify(result.payload ?? null),
      headers: { "x-amz-executed-version": version, ...(result.functionError ? { "x-amz-function-error": result.functionError } : {}) },
    };
  }
}
