// The triggers of an EventWorker and the checks AWS applies to each, as pure functions.
import * as pulumi from "@pulumi/pulumi";
import { destinationService } from "./async-invoke";
import { EVENT_TRIGGER_LIMITS, S3_EVENT_TYPES } from "./limits";
import { slugify } from "./naming";
import { ProblemCollector } from "./validation";

/** Which part of an SNS message a filter policy reads. */
export const FilterPolicyScope = {
  MessageAttributes: "MessageAttributes",
  MessageBody: "MessageBody",
} as const;
export type FilterPolicyScope = (typeof FilterPolicyScope)[keyof typeof FilterPolicyScope];

/** An SNS topic that delivers its messages to the function. */
export interface TopicTriggerArgs {
  /** The topic's ARN. */
  topicArn: pulumi.Input<string>;
  /**
   * An SNS filter policy as a JSON string: only matching messages are delivered. At most
   * 5 attribute names and 150 value combinations.
   * @default none: every message
   */
  filterPolicy?: string;
  /**
   * What the filter policy matches.
   * @default "MessageAttributes"
   */
  filterPolicyScope?: FilterPolicyScope;
}

/** An EventBridge rule whose matching events run the function. */
export interface RuleTriggerArgs {
  /**
   * The bus the rule listens on: its name or ARN.
   * @default "default"
   */
  eventBusName?: pulumi.Input<string>;
  /** An EventBridge event pattern as a JSON string, e.g. `{"source":["orders"]}`; at most 4096 characters. */
  eventPattern: string;
}

/** An EventBridge Scheduler schedule that runs the function. */
export interface ScheduleTriggerArgs {
  /**
   * `rate(<value> minute[s]|hour[s]|day[s])`, `cron(<minutes> <hours> <day-of-month>
   * <month> <day-of-week> <year>)` (one of the two days `?`), or `at(yyyy-mm-ddThh:mm:ss)` (once).
   */
  expression: string;
  /**
   * The IANA time zone of `cron` and `at` expressions, e.g. `Europe/Paris`.
   * @default "UTC"
   */
  timezone?: string;
}

/** An S3 bucket whose object events run the function. */
export interface BucketTriggerArgs {
  /** The bucket's name. The worker owns the bucket's whole notification configuration. */
  bucketName: string;
  /** S3 event types, e.g. `["s3:ObjectCreated:*"]`. */
  events: string[];
  /** Only keys that start with this, e.g. `uploads/`. */
  prefix?: string;
  /** Only keys that end with this, e.g. `.jpg`. */
  suffix?: string;
}

/** One named trigger: exactly one of its fields. */
export interface EventTriggerArgs {
  /** Messages published to an SNS topic. */
  topic?: TopicTriggerArgs;
  /** Events on an EventBridge bus that match a pattern. */
  rule?: RuleTriggerArgs;
  /** A schedule of EventBridge Scheduler. */
  schedule?: ScheduleTriggerArgs;
  /** Object events of an S3 bucket. */
  bucket?: BucketTriggerArgs;
}

export const TRIGGER_KINDS = ["topic", "rule", "schedule", "bucket"] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

const TRIGGER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/;
const EVENT_BUS_NAME = /^[A-Za-z0-9._\-/]{1,256}$/;

/** The kind of each valid trigger, by name; every problem goes to `problems`. */
export function checkTriggers(triggers: Record<string, EventTriggerArgs> | undefined, problems: ProblemCollector): Map<string, TriggerKind> {
  const kinds = new Map<string, TriggerKind>();
  if (!triggers || typeof triggers !== "object" || Object.keys(triggers).length === 0) {
    problems.add("triggers", "is empty; name at least one trigger, e.g. { nightly: { schedule: { expression: \"cron(0 3 * * ? *)\" } } }.");
    return kinds;
  }
  for (const [name, trigger] of Object.entries(triggers)) {
    const at = `triggers.${name}`;
    if (!TRIGGER_NAME.test(name)) {
      problems.add(at, `${JSON.stringify(name)} is not a valid trigger name; use 1-40 letters, digits and "-", starting with a letter or digit (it names the trigger's resources).`);
    }
    const given = TRIGGER_KINDS.filter((kind) => trigger?.[kind] !== undefined);
    if (given.length !== 1) {
      const found = given.length === 0 ? "none" : given.join(" and ");
      problems.add(at, `has ${found}; give exactly one of ${TRIGGER_KINDS.join(", ")} (one trigger per source: add another key for another source).`);
      continue;
    }
    const kind = given[0];
    kinds.set(name, kind);
    if (kind === "topic") checkTopic(trigger.topic!, `${at}.topic`, problems);
    if (kind === "rule") checkRule(trigger.rule!, `${at}.rule`, problems);
    if (kind === "schedule") checkSchedule(trigger.schedule!, `${at}.schedule`, problems);
    if (kind === "bucket") checkBucket(trigger.bucket!, `${at}.bucket`, problems);
  }
  checkBucketOverlaps(triggers, kinds, problems);
  checkNameClashes(triggers, kinds, problems);
  return kinds;
}

/** `text` parsed as a JSON object, or why it is not one. */
function jsonObject(text: unknown): { value: Record<string, unknown> } | { problem: string } {
  if (typeof text !== "string") return { problem: `is not a JSON string; write it with JSON.stringify({...}).` };
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) return { value };
  } catch (error) {
    return { problem: `${JSON.stringify(text)} is not valid JSON (${(error as Error).message}); write it with JSON.stringify({...}).` };
  }
  return { problem: `${JSON.stringify(text)} is not a JSON object with at least one field; write e.g. JSON.stringify({ source: ["orders"] }).` };
}

function checkTopic(topic: TopicTriggerArgs, at: string, problems: ProblemCollector): void {
  if (typeof topic.topicArn === "string") {
    const found = destinationService(topic.topicArn, ["sns"]);
    if ("problem" in found) problems.add(`${at}.topicArn`, found.problem);
    else if (topic.topicArn.endsWith(".fifo")) {
      problems.add(`${at}.topicArn`, `${JSON.stringify(topic.topicArn)} is a FIFO topic, which delivers only to SQS queues; subscribe a FIFO QueueWorker's queue to it, or use a standard topic.`);
    }
  } else if (topic.topicArn === undefined) {
    problems.add(`${at}.topicArn`, "is missing; give the topic's ARN, e.g. topic.arn.");
  }
  problems.oneOf(`${at}.filterPolicyScope`, topic.filterPolicyScope, Object.values(FilterPolicyScope));
  if (topic.filterPolicy === undefined) return;
  const parsed = jsonObject(topic.filterPolicy);
  if ("problem" in parsed) {
    problems.add(`${at}.filterPolicy`, parsed.problem);
    return;
  }
  // SNS counts the attribute names that hold value lists, and the product of their lengths.
  const lists: unknown[][] = [];
  const collect = (value: unknown) => {
    for (const field of Object.values(value as Record<string, unknown>)) {
      if (Array.isArray(field)) lists.push(field);
      else if (field && typeof field === "object") collect(field);
    }
  };
  collect(parsed.value);
  const combinations = lists.reduce((product, list) => product * Math.max(list.length, 1), 1);
  if (lists.length > EVENT_TRIGGER_LIMITS.filterPolicyAttributes) {
    problems.add(`${at}.filterPolicy`, `names ${lists.length} attributes; SNS allows at most ${EVENT_TRIGGER_LIMITS.filterPolicyAttributes}: filter on fewer, or filter the rest in the function.`);
  } else if (combinations > EVENT_TRIGGER_LIMITS.filterPolicyCombinations) {
    problems.add(`${at}.filterPolicy`, `has ${combinations} value combinations; SNS allows at most ${EVENT_TRIGGER_LIMITS.filterPolicyCombinations}: list fewer values.`);
  }
}

function checkRule(rule: RuleTriggerArgs, at: string, problems: ProblemCollector): void {
  const parsed = jsonObject(rule.eventPattern);
  if ("problem" in parsed) problems.add(`${at}.eventPattern`, parsed.problem);
  else if (rule.eventPattern.length > EVENT_TRIGGER_LIMITS.eventPatternLength) {
    problems.add(`${at}.eventPattern`, `is ${rule.eventPattern.length} characters; EventBridge allows at most ${EVENT_TRIGGER_LIMITS.eventPatternLength}: match on fewer fields.`);
  }
  const bus = rule.eventBusName;
  if (typeof bus === "string" && !EVENT_BUS_NAME.test(bus) && "problem" in destinationService(bus, ["events"])) {
    problems.add(`${at}.eventBusName`, `${JSON.stringify(bus)} is not an event bus name or ARN; use e.g. "orders", or leave it out for the default bus.`);
  }
}

const RATE = /^rate\((\S+) (minutes?|hours?|days?)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC";
const DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT";
/** Each cron field: its name, range, and what a value may be besides a number (names, L, W, #). */
const CRON_FIELDS = [
  { name: "minutes", min: 0, max: 59, extra: "" },
  { name: "hours", min: 0, max: 23, extra: "" },
  { name: "day-of-month", min: 1, max: 31, extra: "L|LW|\\d{1,2}W" },
  { name: "month", min: 1, max: 12, extra: MONTHS },
  { name: "day-of-week", min: 1, max: 7, extra: `${DAYS}|[1-7]L|[1-7]#[1-5]|L` },
  { name: "year", min: 1970, max: 2199, extra: "" },
];

/** Why a Scheduler expression is not valid, or undefined. */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const forms = "use rate(5 minutes), cron(0 3 * * ? *) (minutes hours day-of-month month day-of-week year) or at(2030-01-31T09:00:00)";
  if (typeof expression !== "string") return `is not a string; ${forms}.`;
  const shown = JSON.stringify(expression);
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    return Number.isInteger(value) && value >= 1 && /^\d+$/.test(rate[1]) ? undefined : `${shown}: ${rate[1]} is not a whole number of 1 or more; e.g. rate(5 minutes).`;
  }
  const at = AT.exec(expression);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number);
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
    return real ? undefined : `${shown} is not a real date and time; write at(yyyy-mm-ddThh:mm:ss), e.g. at(2030-01-31T09:00:00).`;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return `${shown} is not a Scheduler expression; ${forms}.`;
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) return `${shown} has ${fields.length} fields; a Scheduler cron has 6: minutes hours day-of-month month day-of-week year, e.g. cron(0 3 * * ? *).`;
  for (const [index, field] of fields.entries()) {
    const { name, min, max, extra } = CRON_FIELDS[index];
    const bad = field === "?" ? !(name === "day-of-month" || name === "day-of-week") : !field.split(",").every((part) => cronPart(part, min, max, extra));
    if (bad) return `${shown}: the ${name} field ${JSON.stringify(field)} is not valid; use numbers ${min}-${max}${extra ? " (or names)" : ""} with , - * /${name.startsWith("day-") ? " or ?" : ""}.`;
  }
  if ((fields[2] === "?") === (fields[4] === "?")) {
    return `${shown}: exactly one of day-of-month and day-of-week must be "?"; e.g. cron(0 3 * * ? *) (every day) or cron(0 3 ? * MON *) (Mondays).`;
  }
  return undefined;
}

function cronPart(part: string, min: number, max: number, extra: string): boolean {
  const inRange = (text: string) => /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max;
  const named = (text: string) => extra !== "" && new RegExp(`^(${extra})$`, "i").test(text);
  const value = (text: string) => inRange(text) || named(text);
  const [range, step, ...rest] = part.split("/");
  if (rest.length > 0 || (step !== undefined && !/^\d+$/.test(step))) return false;
  if (range === "*") return true;
  const [from, to, ...more] = range.split("-");
  if (more.length > 0) return false;
  return to === undefined ? value(from) : value(from) && value(to);
}

/** Whether `timezone` is an IANA time zone this Node knows. */
function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

function checkSchedule(schedule: ScheduleTriggerArgs, at: string, problems: ProblemCollector): void {
  const problem = scheduleExpressionProblem(schedule.expression);
  if (problem) problems.add(`${at}.expression`, problem);
  if (schedule.timezone !== undefined && (typeof schedule.timezone !== "string" || !isTimeZone(schedule.timezone))) {
    problems.add(`${at}.timezone`, `${JSON.stringify(schedule.timezone)} is not an IANA time zone; use e.g. "Europe/Paris", or leave it out for UTC.`);
  }
}

/** S3's bucket naming rules (general purpose buckets). */
const BUCKET_NAME = /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(-s3alias|--ol-s3|\.mrap|--x-s3)$)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$/;

function checkBucket(bucket: BucketTriggerArgs, at: string, problems: ProblemCollector): void {
  if (typeof bucket.bucketName !== "string" || !BUCKET_NAME.test(bucket.bucketName) || bucket.bucketName.includes("..")) {
    problems.add(`${at}.bucketName`, `${JSON.stringify(bucket.bucketName)} is not an S3 bucket name; use 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit (the name, not the ARN).`);
  }
  if (!Array.isArray(bucket.events) || bucket.events.length === 0) {
    problems.add(`${at}.events`, "is empty; name the S3 event types, e.g. [\"s3:ObjectCreated:*\"].");
  } else {
    for (const event of bucket.events) {
      if (!S3_EVENT_TYPES.includes(event)) problems.add(`${at}.events`, `${JSON.stringify(event)} is not an S3 event type; use e.g. "s3:ObjectCreated:*" or "s3:ObjectRemoved:Delete".`);
    }
  }
  for (const field of ["prefix", "suffix"] as const) {
    const value = bucket[field];
    if (value !== undefined && (typeof value !== "string" || value.length === 0 || value.length > EVENT_TRIGGER_LIMITS.keyFilterLength)) {
      problems.add(`${at}.${field}`, `${JSON.stringify(value)} is not a key ${field} of 1-${EVENT_TRIGGER_LIMITS.keyFilterLength} characters; give one, or leave it out.`);
    }
  }
}

/** Whether two S3 event types can describe the same event (equal, or one is the other's category wildcard). */
function eventsOverlap(a: string, b: string): boolean {
  const category = (event: string) => event.split(":").slice(0, 2).join(":");
  return a === b || (a.endsWith(":*") && category(a) === category(b)) || (b.endsWith(":*") && category(a) === category(b));
}

/**
 * S3 refuses two notifications of one bucket that could both match an object: overlapping
 * events whose prefixes overlap (one starts the other) and whose suffixes overlap (one ends the other).
 */
function checkBucketOverlaps(triggers: Record<string, EventTriggerArgs>, kinds: Map<string, TriggerKind>, problems: ProblemCollector): void {
  const buckets = [...kinds].filter(([, kind]) => kind === "bucket").map(([name]) => ({ name, bucket: triggers[name].bucket! }));
  buckets.forEach(({ name, bucket }, index) => {
    for (const other of buckets.slice(0, index)) {
      if (other.bucket.bucketName !== bucket.bucketName) continue;
      const [p1, p2, s1, s2] = [bucket.prefix ?? "", other.bucket.prefix ?? "", bucket.suffix ?? "", other.bucket.suffix ?? ""];
      const prefixesOverlap = p1.startsWith(p2) || p2.startsWith(p1);
      const suffixesOverlap = s1.endsWith(s2) || s2.endsWith(s1);
      const event = (bucket.events ?? []).find((e) => (other.bucket.events ?? []).some((o) => eventsOverlap(e, o)));
      if (event && prefixesOverlap && suffixesOverlap) {
        problems.add(`triggers.${name}.bucket`, `overlaps trigger ${JSON.stringify(other.name)} on bucket ${JSON.stringify(bucket.bucketName)}: both match ${event} for keys with prefix ${JSON.stringify(p1 || p2)} and suffix ${JSON.stringify(s1 || s2)}, which S3 refuses; give them prefixes or suffixes that do not overlap, or merge them into one trigger.`);
      }
    }
  });
}

/** The name piece of a bucket's notification: one per bucket, `<worker>-<piece>`. */
export function bucketNotificationName(bucketName: string): string {
  return slugify(bucketName);
}

/** A bucket's notification is named after the bucket; a trigger of another kind must not take that name. */
function checkNameClashes(triggers: Record<string, EventTriggerArgs>, kinds: Map<string, TriggerKind>, problems: ProblemCollector): void {
  const bucketPieces = new Map([...kinds].filter(([, kind]) => kind === "bucket").map(([name]) => [bucketNotificationName(triggers[name].bucket!.bucketName ?? ""), triggers[name].bucket!.bucketName]));
  for (const [name, kind] of kinds) {
    if (kind !== "bucket" && bucketPieces.has(name)) {
      problems.add(`triggers.${name}`, `has the name of the notification of bucket ${JSON.stringify(bucketPieces.get(name))}, whose permission it would share; rename the trigger.`);
    }
  }
}
