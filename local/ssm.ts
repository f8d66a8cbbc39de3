/**
 * A local Parameter Store: the program's String, StringList and SecureString parameters,
 * served on loopback in the AWS JSON 1.1 protocol for the calls the SDK's SSM client (and
 * Powertools' SSMProvider) make: GetParametersByPath (paths, recursion, decryption,
 * pagination, ParameterFilters on Type and KeyId), GetParameter and GetParameters. A
 * SecureString read without WithDecryption returns an opaque ciphertext stand-in, as SSM
 * returns ciphertext. Any other operation, and a filter it does not apply, is refused with
 * an error naming it.
 */
import type { Server } from "node:http";
import { jsonCodec } from "./aws-json";
import { AwsError, awsServer } from "./aws-server";
import { closeServer, listen } from "./loopback";

export interface LocalParameter {
  name: string;
  type: "String" | "SecureString" | "StringList";
  value: string;
  /** The KMS key of a SecureString. @default "alias/aws/ssm" (the account's default key, as in AWS) */
  keyId?: string;
}

const NAME_PATTERN = /^\/?[A-Za-z0-9_.\-/]{1,2048}$/;

function validation(message: string): AwsError {
  return new AwsError("ValidationException", message);
}

/** GetParametersByPath's filter keys (AWS's API reference: ParameterStringFilter) and the options each takes. */
const PATH_FILTER_OPTIONS: Record<string, string[]> = { Type: ["Equals", "BeginsWith"], KeyId: ["Equals", "BeginsWith"], Label: ["Equals"] };
const PARAMETER_TYPES = ["String", "StringList", "SecureString"];
/** What AWS encrypts a SecureString with when it names no key. */
const DEFAULT_KEY_ID = "alias/aws/ssm";

type StoredParameter = LocalParameter & { version: number; modifiedAt: number };

/** Whether a parameter passes every filter; throws InvalidFilter* for a filter AWS would refuse or this endpoint does not apply. */
function filterMatcher(filters: unknown): (parameter: StoredParameter) => boolean {
  if (filters === undefined || filters === null) return () => true;
  if (!Array.isArray(filters)) throw validation("ParameterFilters must be a list of { Key, Option, Values }.");
  const checks = filters.map((filter: { Key?: unknown; Option?: unknown; Values?: unknown }) => {
    const key = String(filter?.Key);
    const options = PATH_FILTER_OPTIONS[key];
    if (!options) throw new AwsError("InvalidFilterKey", `The filter key ${key} is not valid for GetParametersByPath; it takes ${Object.keys(PATH_FILTER_OPTIONS).join(", ")} (Name, Path, Tier, DataType and tag: filters are for DescribeParameters).`);
    if (key === "Label") throw new AwsError("InvalidFilterKey", "The filter key Label is valid in AWS, but the local Parameter Store has no labels (the program cannot set them); filter by Type or KeyId, or read the parameter by name.");
    const option = filter.Option === undefined ? "Equals" : String(filter.Option);
    if (!options.includes(option)) throw new AwsError("InvalidFilterOption", `The filter option ${option} is not valid for the key ${key}; use ${options.join(", ")}.`);
    const values = filter.Values;
    if (!Array.isArray(values) || values.length < 1 || values.length > 50 || !values.every((v) => typeof v === "string" && v.length >= 1 && v.length <= 1024)) {
      throw new AwsError("InvalidFilterValue", `The filter ${key} needs Values: 1 to 50 strings of 1 to 1024 characters.`);
    }
    if (key === "Type" && option === "Equals") {
      const invalid = values.find((v) => !PARAMETER_TYPES.includes(v));
      if (invalid !== undefined) throw new AwsError("InvalidFilterValue", `The filter value ${invalid} is not valid for Type; use ${PARAMETER_TYPES.join(", ")}.`);
    }
    const field = (parameter: StoredParameter) => (key === "Type" ? parameter.type : parameter.type === "SecureString" ? parameter.keyId ?? DEFAULT_KEY_ID : undefined);
    return (parameter: StoredParameter) => {
      const actual = field(parameter);
      return actual !== undefined && values.some((value: string) => (option === "Equals" ? actual === value : actual.startsWith(value)));
    };
  });
  return (parameter) => checks.every((check) => check(parameter));
}

export class LocalSsm {
  private readonly parameters = new Map<string, StoredParameter>();
  private server?: Server;
  endpoint = "";

  constructor(readonly region = "eu-west-1", readonly accountId = "123456789012") {}

  put(parameter: LocalParameter): void {
    if (!NAME_PATTERN.test(parameter.name)) throw new Error(`Parameter name ${JSON.stringify(parameter.name)} is not valid.`);
    const previous = this.parameters.get(parameter.name);
    this.parameters.set(parameter.name, { ...parameter, version: (previous?.version ?? 0) + 1, modifiedAt: Date.now() / 1000 });
  }

  list(): LocalParameter[] {
    return [...this.parameters.values()].map(({ version: _version, modifiedAt: _modifiedAt, ...parameter }) => parameter);
  }

  async start(port = 0): Promise<string> {
    this.server = awsServer({
      service: "SSM",
      codecs: [jsonCodec({ target: "AmazonSSM", contentType: "application/x-amz-json-1.1", validationErrorType: "ValidationException" })],
      operations: {
        GetParametersByPath: (input) => this.getParametersByPath(input),
        GetParameter: (input) => ({ Parameter: this.out(this.get(input.Name), input.WithDecryption === true) }),
        GetParameters: (input) => {
          if (!Array.isArray(input.Names) || input.Names.length < 1 || input.Names.length > 10) throw validation("Names must hold 1 to 10 parameter names.");
          const found = input.Names.map((name: unknown) => this.parameters.get(String(name)));
          return {
            Parameters: found.filter((p: unknown) => p).map((p: any) => this.out(p, input.WithDecryption === true)),
            InvalidParameters: input.Names.filter((_: unknown, i: number) => !found[i]),
          };
        },
      },
    });
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  private get(name: unknown) {
    if (typeof name !== "string" || name === "") throw validation("Name is required.");
    const parameter = this.parameters.get(name);
    if (!parameter) throw new AwsError("ParameterNotFound", `Parameter ${name} not found.`);
    return parameter;
  }

  private out(parameter: StoredParameter, decrypt: boolean) {
    const encrypted = parameter.type === "SecureString" && !decrypt;
    return {
      Name: parameter.name,
      Type: parameter.type,
      Value: encrypted ? Buffer.from(`local-ciphertext:${parameter.name}`).toString("base64") : parameter.value,
      Version: parameter.version,
      LastModifiedDate: parameter.modifiedAt,
      ARN: `arn:aws:ssm:${this.region}:${this.accountId}:parameter${parameter.name.startsWith("/") ? "" : "/"}${parameter.name}`,
      DataType: "text",
    };
  }

  private getParametersByPath(input: Record<string, any>) {
    const path = input.Path;
    if (typeof path !== "string" || !path.startsWith("/") || !NAME_PATTERN.test(path)) {
      throw validation(`Path ${JSON.stringify(path)} is not valid; a path starts with "/", e.g. /app/fn.`);
    }
    const max = input.MaxResults ?? 10;
    if (!Number.isInteger(max) || max < 1 || max > 10) throw validation("MaxResults must be from 1 to 10.");
    const prefix = path.endsWith("/") ? path : `${path}/`;
    const passesFilters = filterMatcher(input.ParameterFilters);
    const matching = [...this.parameters.values()]
      .filter((p) => p.name.startsWith(prefix) && (input.Recursive === true || !p.name.slice(prefix.length).includes("/")) && passesFilters(p))
      .sort((a, b) => a.name.localeCompare(b.name));
    let start = 0;
    if (input.NextToken !== undefined) {
      start = Number(Buffer.from(String(input.NextToken), "base64url").toString("utf8"));
      if (!Number.isInteger(start) || start < 0 || start > matching.length) throw new AwsError("InvalidNextToken", "The specified token is not valid.");
    }
    const page = matching.slice(start, start + max);
    const next = start + max < matching.length ? Buffer.from(String(start + max)).toString("base64url") : undefined;
    return { Parameters: page.map((p) => this.out(p, input.WithDecryption === true)), ...(next ? { NextToken: next } : {}) };
  }
}
