/**
 * A local EventBridge endpoint: PutEvents in the AWS JSON 1.1 protocol (as the SDK v3
 * EventBridge client speaks it), onto the default bus and the buses the program's rules
 * name. Each event, in EventBridge's shape, goes to every rule on its bus whose
 * `eventPattern` it matches (event-patterns.ts), and on to the rule's Lambda targets (the
 * event itself, or the target's constant `input`). EventBridge invokes Lambda
 * asynchronously, so a function's errors take the function's own retry path
 * (async-invoke.ts); the target's dead-letter queue receives what EventBridge could not
 * deliver at all: a target that is not a function of the program. Archives, replays,
 * input transformers, API destinations and other target kinds are not emulated.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { EventBridgeEvent } from "aws-lambda";
import type { RuleModel, RuleTargetModel } from "./async-model";
import { jsonCodec } from "./aws-json";
import { AwsError, awsServer } from "./aws-server";
import { compilePattern, PatternMatcher } from "./event-patterns";
import { closeServer, listen } from "./loopback";

const MAX_ENTRIES = 10;
/** EventBridge's limit on one PutEvents request, in bytes. */
export const EVENTBRIDGE_MAX_REQUEST_BYTES = 262_144;

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: number | string;
}

export type BusEvent = EventBridgeEvent<string, unknown>;

export interface RuleDelivery {
  rule: RuleModel;
  target: RuleTargetModel;
  /** What the target receives: the event, or its constant input. */
  payload: unknown;
  event: BusEvent;
}

export interface LocalEventBridgeOptions {
  region: string;
  accountId: string;
  rules: RuleModel[];
  targets: RuleTargetModel[];
  deliver: (delivery: RuleDelivery) => void;
  log?: (line: string) => void;
}

function compiledPattern(rule: RuleModel): PatternMatcher {
  try {
    return compilePattern(rule.eventPattern, "EventBridge");
  } catch (error) {
    throw new Error(`Rule ${rule.name}: its event pattern is not one EventBridge accepts (${(error as Error).message}).`);
  }
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export class LocalEventBridge {
  private server?: Server;
  endpoint = "";
  private readonly buses: Set<string>;
  /** The rules with their patterns compiled (and so checked) once, as EventBridge checks them at PutRule. */
  private readonly rules: { rule: RuleModel; matches: PatternMatcher }[];

  constructor(private readonly options: LocalEventBridgeOptions) {
    this.buses = new Set(["default", ...options.rules.map((r) => r.eventBusName)]);
    this.rules = options.rules.map((rule) => ({ rule, matches: compiledPattern(rule) }));
  }

  async start(port = 0): Promise<string> {
    this.server = awsServer({
      service: "EventBridge",
      codecs: [jsonCodec({ target: "AWSEvents", contentType: "application/x-amz-json-1.1", validationErrorType: "ValidationException" })],
      operations: { PutEvents: (input) => this.putEvents(input.Entries) },
      maxBodyBytes: EVENTBRIDGE_MAX_REQUEST_BYTES * 2,
    });
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  putEvents(entries: unknown): { FailedEntryCount: number; Entries: EntryResult[] } {
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      throw new AwsError("ValidationException", `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`);
    }
    const size = entries.reduce((sum: number, e: PutEventsEntry) => sum + entrySize(e), 0);
    if (size > EVENTBRIDGE_MAX_REQUEST_BYTES) throw new AwsError("ValidationException", `Total size of the entries in the request is over the limit: ${size} bytes of ${EVENTBRIDGE_MAX_REQUEST_BYTES}.`);
    const results = entries.map((entry: PutEventsEntry) => this.putEvent(entry));
    return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
  }

  private putEvent(entry: PutEventsEntry): EntryResult {
    for (const field of ["Source", "DetailType", "Detail"] as const) {
      if (typeof entry[field] !== "string" || entry[field] === "") return { ErrorCode: "InvalidArgument", ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail!);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== "object" || detail === null || Array.isArray(detail)) return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
    const busName = busNameOf(entry.EventBusName);
    if (!this.buses.has(busName)) return { ErrorCode: "ResourceNotFoundException", ErrorMessage: `Event bus ${busName} does not exist.` };
    const event: BusEvent = {
      version: "0",
      id: randomUUID(),
      "detail-type": entry.DetailType!,
      source: entry.Source!,
      account: this.options.accountId,
      time: eventTime(entry.Time),
      region: this.options.region,
      resources: entry.Resources ?? [],
      detail,
    };
    this.route(busName, event);
    return { EventId: event.id };
  }

  private route(busName: string, event: BusEvent): void {
    for (const { rule, matches } of this.rules.filter(({ rule }) => rule.eventBusName === busName)) {
      if (!matches(event)) continue;
      const targets = this.options.targets.filter((t) => t.ruleName === rule.ruleName && t.eventBusName === busName);
      for (const target of targets) {
        this.options.log?.(`EVENTS ${busName}: event ${event.id} (${event.source} / ${event["detail-type"]}) matched ${rule.name} -> ${target.name}`);
        this.options.deliver({ rule, target, event, payload: target.input !== undefined ? JSON.parse(target.input) : event });
      }
    }
  }
}

/** EventBusName takes a name or an ARN. */
function busNameOf(value: string | undefined): string {
  if (!value) return "default";
  const match = /^arn:[^:]+:events:[^:]*:\d*:event-bus\/(.+)$/.exec(value);
  return match ? match[1] : value;
}

/** EventBridge's time: whole seconds, UTC. */
function eventTime(time: PutEventsEntry["Time"]): string {
  const date = time === undefined ? new Date() : new Date(typeof time === "number" ? time * 1000 : time);
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** EventBridge's entry size (user guide, "Calculating PutEvents entry size"). */
function entrySize(entry: PutEventsEntry): number {
  const bytes = (text?: string) => (text ? Buffer.byteLength(text) : 0);
  return (entry.Time !== undefined ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0);
}
