/**
 * The traffic model of a stack: how much each part of it is used per month, read from the
 * stack's config (Pulumi.yaml declares every key with a default; Pulumi.<stack>.yaml sets
 * what differs). Each key is a list of `<name>=<number>` entries: the name is a route key
 * (`POST /orders`), a function's or another resource's logical name (`orders-api-get-order`,
 * `orders`), or `*` for everything the list does not name.
 */
import { StackConfigError } from "../../app/settings";
import type { StackConfig } from "../stack-config";

/** One traffic key: what it measures, its unit and its allowed range. */
interface TrafficKey {
  /** What the entry names. */
  names: string;
  unit: string;
  max: number;
}

/** The traffic keys, as Pulumi.yaml declares them (each `traffic<Name>`). */
export const TRAFFIC_KEYS = {
  requestsPerMonth: { names: "an API route (`POST /orders`) or a REST API", unit: "requests per month", max: 1e12 },
  messagesPerMonth: { names: "a queue, topic, event bus, rule, schedule, bucket, or a table (its stream's records)", unit: "messages per month", max: 1e12 },
  invocationsPerMonth: { names: "a function whose invocations do not follow from a route or a source (hooks, authorizers with caching)", unit: "invocations per month", max: 1e12 },
  durationMs: { names: "a function", unit: "ms (average duration of an invocation)", max: 900_000 },
  initDurationMs: { names: "a function", unit: "ms (init phase of a cold start)", max: 10_000 },
  coldStartPercent: { names: "a function", unit: "% of invocations that start cold", max: 100 },
  payloadBytes: { names: "a route, queue, topic, bus or interface endpoint", unit: "bytes per request or message", max: 10_485_760 },
  logBytesPerInvocation: { names: "a function, an API (access logs, per request) or a flow log (per invocation of the VPC's functions)", unit: "bytes logged", max: 10_485_760 },
  dynamodbReadUnits: { names: "a function", unit: "read request units per invocation", max: 10_000 },
  dynamodbWriteUnits: { names: "a function", unit: "write request units per invocation", max: 10_000 },
  storageGb: { names: "a table or a bucket", unit: "GB stored", max: 1e9 },
  kmsRequestsPerMonth: { names: "a KMS key", unit: "requests per month", max: 1e12 },
  monthlyActiveUsers: { names: "a Cognito user pool", unit: "monthly active users", max: 1e9 },
} as const satisfies Record<string, TrafficKey>;

export type TrafficKeyName = keyof typeof TRAFFIC_KEYS;

/** Values per name for one traffic key; `*` is the fallback. */
export type TrafficValues = Map<string, number>;

/** The stack's traffic model: each key's values by name. */
export class TrafficModel {
  /** Names asked for per key, so names the stack does not have can be reported. */
  private readonly asked = new Map<TrafficKeyName, Set<string>>();
  constructor(readonly values: Record<TrafficKeyName, TrafficValues>) {}

  /** The value for the first of `names` the key lists, else its `*` entry, else 0. */
  get(key: TrafficKeyName, ...names: Array<string | undefined>): number {
    const values = this.values[key];
    const asked = this.asked.get(key) ?? new Set<string>();
    this.asked.set(key, asked);
    for (const name of names) {
      if (name === undefined) continue;
      asked.add(name);
      if (values.has(name)) return values.get(name)!;
    }
    return values.get("*") ?? 0;
  }

  /** Whether the key names one of `names` itself (not through `*`). */
  names(key: TrafficKeyName, ...names: Array<string | undefined>): boolean {
    names.forEach((name) => name !== undefined && this.get(key, name));
    return names.some((name) => name !== undefined && this.values[key].has(name));
  }

  /** Entries that named nothing the estimate looked up: a typo, or a resource the stack no longer has. */
  unusedNames(): Array<{ key: TrafficKeyName; name: string }> {
    return (Object.keys(this.values) as TrafficKeyName[]).flatMap((key) =>
      [...this.values[key].keys()].filter((name) => name !== "*" && !this.asked.get(key)?.has(name)).map((name) => ({ key, name })));
  }
}

/** `requestsPerMonth` -> `trafficRequestsPerMonth`, the key's name in Pulumi.yaml. */
export const configKeyOf = (key: TrafficKeyName) => `traffic${key[0].toUpperCase()}${key.slice(1)}`;

const ENTRY = /^(.+?)\s*=\s*([^=]+)$/;

/** Reads and checks the traffic model from a stack's config; throws a StackConfigError naming every bad entry. */
export function readTraffic(stackConfig: StackConfig): TrafficModel {
  const problems: string[] = [];
  const values = {} as Record<TrafficKeyName, TrafficValues>;
  for (const [key, spec] of Object.entries(TRAFFIC_KEYS) as Array<[TrafficKeyName, TrafficKey]>) {
    const fullKey = `${stackConfig.project}:${configKeyOf(key)}`;
    const fix = `list "<name>=<number>" entries, <name> ${spec.names} or * for the rest, <number> in 0-${spec.max} ${spec.unit}`;
    const raw = stackConfig.config[fullKey];
    const found: TrafficValues = new Map();
    values[key] = found;
    if (raw === undefined) {
      problems.push(`${fullKey} is not set; declare it in Pulumi.yaml with a default (${fix}).`);
      continue;
    }
    let entries: unknown;
    try {
      entries = JSON.parse(raw);
    } catch {
      entries = raw;
    }
    if (!Array.isArray(entries)) {
      problems.push(`${fullKey} = ${JSON.stringify(raw)} is not a list; ${fix}.`);
      continue;
    }
    entries.forEach((entry, index) => {
      const match = typeof entry === "string" ? ENTRY.exec(entry.trim()) : null;
      const number = match ? Number(match[2].trim()) : NaN;
      if (!match || match[2].trim() === "" || !Number.isFinite(number) || number < 0 || number > spec.max) {
        problems.push(`${fullKey}[${index}] = ${JSON.stringify(entry)} is not "<name>=<number>" with <number> in 0-${spec.max} ${spec.unit}; ${fix}.`);
      } else if (found.has(match[1])) {
        problems.push(`${fullKey}[${index}] names ${match[1]} again; keep one entry per name.`);
      } else {
        found.set(match[1], number);
      }
    });
  }
  if (problems.length > 0) throw new StackConfigError(stackConfig.stack, problems);
  return new TrafficModel(values);
}
