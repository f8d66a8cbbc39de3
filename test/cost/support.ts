/**
 * Helpers for the cost tests: a traffic model from entries (through the real reader), and
 * small fixture programs of raw resources recorded by the shared harness.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configKeyOf, readTraffic, TRAFFIC_KEYS, TrafficKeyName, TrafficModel } from "../../tools/cost/traffic";
import { CostEstimate, estimateCost, LineItem } from "../../tools/cost/estimate";
import { record, TEST_PROJECT, TEST_REGION, TEST_STACK } from "../mocks";

/** A traffic model with `entries` for some keys and none (so 0 everywhere) for the rest. */
export function trafficOf(entries: Partial<Record<TrafficKeyName, string[]>>): TrafficModel {
  const config = Object.fromEntries((Object.keys(TRAFFIC_KEYS) as TrafficKeyName[]).map((key) => [`${TEST_PROJECT}:${configKeyOf(key)}`, JSON.stringify(entries[key] ?? [])]));
  return readTraffic({ project: TEST_PROJECT, stack: TEST_STACK, config, secretKeys: [], placeholders: [] });
}

/** Records `build` and estimates what it costs at `traffic`. */
export async function estimateOf(build: () => unknown, traffic: TrafficModel): Promise<CostEstimate> {
  const { resources } = await record(() => {
    build();
  });
  return estimateCost(resources, traffic, { project: TEST_PROJECT, stack: TEST_STACK, region: TEST_REGION });
}

/** The one line item of `resource` whose item starts with `item`. */
export function item(estimate: CostEstimate, resource: string, itemStart: string): LineItem {
  const found = estimate.items.filter((i) => i.resource === resource && i.item.startsWith(itemStart));
  if (found.length !== 1) throw new Error(`expected one "${itemStart}" line of ${resource}, found ${found.length}: ${estimate.items.map((i) => `${i.resource}/${i.item}`).join(", ")}`);
  return found[0];
}

/** A bare Lambda function (no component), named as AWS names it. */
export function bareFunction(name: string, memorySize: number, architecture: "x86_64" | "arm64", opts: Partial<aws.lambda.FunctionArgs> = {}): aws.lambda.Function {
  return new aws.lambda.Function(name, {
    name, memorySize, architectures: [architecture], runtime: "nodejs22.x", handler: "index.handler",
    role: "arn:aws:iam::123456789012:role/fixture", code: new pulumi.asset.AssetArchive({}), ...opts,
  });
}
