import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";

/** Length limits of the physical names we set, per AWS service. */
export const NAME_LIMITS = {
  lambdaFunction: 64,
  iamRole: 64,
  sqsQueue: 80,
  httpApi: 128,
  // REST API, usage plan and API key names: kept as short as an HTTP API's; a WAFv2 web ACL's is 1-128.
  restApi: 128,
  webAcl: 128,
  alarm: 255,
  eventRule: 64,
  schedule: 64,
  logGroup: 512,
} as const;

/** A short, stable digest of `text`, for names derived from content. */
export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Lowercase letters, digits and dashes only: a readable piece of a resource name. */
export function slugify(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * `<project>-<stack>-<name>`, so dev and prod never collide, cut to `maxLength`. A name
 * that must be cut keeps its start and gains a digest of the whole, so it stays unique.
 * `suffix` (such as `.fifo`) is kept intact at the end.
 */
export function physicalName(name: string, maxLength: number, suffix = ""): string {
  const full = `${pulumi.getProject()}-${pulumi.getStack()}-${name}`.replace(/[^A-Za-z0-9_-]+/g, "-");
  const room = maxLength - suffix.length;
  if (full.length <= room) return full + suffix;
  const digest = shortHash(full);
  return `${full.slice(0, room - digest.length - 1)}-${digest}${suffix}`;
}

/** The Parameter Store path that holds a component's parameters and secrets. */
export function parameterPath(componentName: string): string {
  return `/${pulumi.getProject()}/${pulumi.getStack()}/${componentName}`;
}
