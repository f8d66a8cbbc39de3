/**
 * Event patterns and filter policies, table-driven from the examples of AWS's EventBridge
 * user guide ("Comparison operators for use in event patterns") and SNS developer guide
 * ("Filter policy constraints", "attribute-based" and "payload-based" examples).
 */
import { expect } from "chai";
import { compilePattern, matchesFilterPolicy, matchesPattern } from "../../local/event-patterns";
import { LocalEventBridge } from "../../local/eventbridge";

/** The EC2 state-change event of the EventBridge guide's examples, with a few more fields. */
const ec2Event = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "111122223333",
  time: "2017-12-22T18:43:48Z",
  region: "us-west-1",
  resources: ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  detail: {
    "instance-id": "i-1234567890abcdef0",
    state: "terminated",
    "c-count": 5,
    "d-count": 7,
    "x-limit": 3.018e2,
    "source-ip": "10.0.0.123",
    "file-name": "photo.PNG",
    location: { city: "Seattle" },
    tags: ["prod", "web"],
  },
};

type Case = [description: string, pattern: Record<string, unknown>, matches: boolean];

const eventBridgeCases: Case[] = [
  ["exact string", { source: ["aws.ec2"] }, true],
  ["exact string, no match", { source: ["aws.s3"] }, false],
  ["one of several values", { detail: { state: ["running", "terminated"] } }, true],
  ["and across fields", { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] }, true],
  ["and fails when one field fails", { source: ["aws.ec2"], detail: { state: ["running"] } }, false],
  ["nested object", { detail: { location: { city: ["Seattle"] } } }, true],
  ["a list value matches when any element does", { detail: { tags: ["web"] } }, true],
  ["prefix", { region: [{ prefix: "us-" }] }, true],
  ["prefix, no match", { region: [{ prefix: "eu-" }] }, false],
  ["prefix ignoring case", { "detail-type": [{ prefix: { "equals-ignore-case": "ec2 instance" } }] }, true],
  ["suffix", { detail: { "file-name": [{ suffix: ".PNG" }] } }, true],
  ["suffix is case-sensitive", { detail: { "file-name": [{ suffix: ".png" }] } }, false],
  ["suffix ignoring case", { detail: { "file-name": [{ suffix: { "equals-ignore-case": ".png" } }] } }, true],
  ["equals-ignore-case", { detail: { state: [{ "equals-ignore-case": "TERMINATED" }] } }, true],
  ["anything-but a value", { detail: { state: [{ "anything-but": "initializing" }] } }, true],
  ["anything-but the value it has", { detail: { state: [{ "anything-but": "terminated" }] } }, false],
  ["anything-but a list", { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } }, true],
  ["anything-but numbers", { detail: { "c-count": [{ "anything-but": [100, 200, 300] }] } }, true],
  ["anything-but a prefix", { region: [{ "anything-but": { prefix: "us-" } }] }, false],
  ["anything-but a suffix", { detail: { "file-name": [{ "anything-but": { suffix: ".txt" } }] } }, true],
  ["anything-but ignoring case", { detail: { state: [{ "anything-but": { "equals-ignore-case": ["Terminated", "Stopped"] } }] } }, false],
  ["anything-but a wildcard", { detail: { "file-name": [{ "anything-but": { wildcard: "*.PNG" } }] } }, false],
  ["anything-but on a missing field does not match", { detail: { missing: [{ "anything-but": "x" }] } }, false],
  ["numeric range", { detail: { "c-count": [{ numeric: [">", 0, "<=", 5] }] } }, true],
  ["numeric range, outside", { detail: { "d-count": [{ numeric: ["<", 5] }] } }, false],
  ["numeric equals a number in exponent form", { detail: { "x-limit": [{ numeric: ["=", 301.8] }] } }, true],
  ["numeric does not match a string", { detail: { state: [{ numeric: [">", 0] }] } }, false],
  ["exists", { detail: { state: [{ exists: true }] } }, true],
  ["exists false on a missing field", { detail: { "no-such-field": [{ exists: false }] } }, true],
  ["exists false on a present field", { detail: { state: [{ exists: false }] } }, false],
  ["exists only matches leaves", { detail: { location: [{ exists: true }] } }, false],
  ["cidr", { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } }, true],
  ["cidr, outside", { detail: { "source-ip": [{ cidr: "10.0.1.0/24" }] } }, false],
  ["wildcard", { detail: { "instance-id": [{ wildcard: "i-*abcdef0" }] } }, true],
  ["wildcard, no match", { detail: { "file-name": [{ wildcard: "*.jpg" }] } }, false],
  ["$or of fields", { detail: { $or: [{ "c-count": [{ numeric: [">", 10] }] }, { "d-count": [{ numeric: ["<", 10] }] }] } }, true],
  ["$or where no alternative matches", { $or: [{ source: ["aws.s3"] }, { region: ["eu-west-1"] }] }, false],
  ["a string does not match a number", { detail: { "c-count": ["5"] } }, false],
  ["a number matches a number", { detail: { "c-count": [5] } }, true],
  ["prefix does not match a number", { detail: { "c-count": [{ prefix: "5" }] } }, false],
  ["anything-but on a list matches when any element is not excluded", { detail: { tags: [{ "anything-but": "prod" }] } }, true],
  ["anything-but on a list fails when every element is excluded", { detail: { tags: [{ "anything-but": ["prod", "web"] }] } }, false],
];

describe("local runtime: EventBridge event patterns (AWS's documented examples)", () => {
  for (const [description, pattern, expected] of eventBridgeCases) {
    it(`${expected ? "matches" : "does not match"}: ${description}`, () => {
      expect(matchesPattern(pattern, ec2Event)).to.equal(expected);
    });
  }

  it("refuses a pattern EventBridge would refuse, naming the problem", () => {
    expect(() => matchesPattern({ source: "aws.ec2" }, ec2Event)).to.throw('the value of "source" must be a list of matchers or an object');
    expect(() => matchesPattern({ source: [{ "starts-with": "aws" }] }, ec2Event)).to.throw('unknown operator "starts-with"');
    expect(() => matchesPattern({ detail: { "c-count": [{ numeric: [">", "0"] }] } }, ec2Event)).to.throw('"numeric" takes operators');
    expect(() => matchesPattern({ $or: [{ source: ["aws.ec2"] }] }, ec2Event)).to.throw('"$or" takes a list of at least two patterns');
  });

  it("checks the whole pattern when it compiles, also the parts no document reaches", () => {
    // The first field never matches, so a matcher that read the pattern lazily would never see the second.
    expect(() => compilePattern({ source: ["nothing"], detail: { state: [{ "anything-but": { begins: "x" } }] } })).to.throw('"anything-but" takes values');
    expect(() => compilePattern({ $or: [{ source: ["a"] }, { source: [{ numeric: ["~", 1] }] }] })).to.throw('"numeric" takes operators');
    const matches = compilePattern({ source: ["aws.ec2"], detail: { state: [{ "anything-but": ["stopped"] }] } });
    expect([matches(ec2Event), matches({ ...ec2Event, source: "aws.s3" })]).to.deep.equal([true, false]);
  });
});

describe("local runtime: SNS filter policies (AWS's documented examples)", () => {
  // The SNS guide's example message: a store's order, with attributes and a JSON body.
  const attributes = {
    store: { DataType: "String", StringValue: "example_corp" },
    event: { DataType: "String", StringValue: "order_placed" },
    customer_interests: { DataType: "String.Array", StringValue: JSON.stringify(["soccer", "rugby", "hockey"]) },
    price_usd: { DataType: "Number", StringValue: "210.75" },
    encrypted: { DataType: "Binary", BinaryValue: "AAEC" },
  };
  const body = JSON.stringify({ store: "example_corp", event: "order_placed", customer: { interests: ["soccer", "rugby"] }, price_usd: 210.75 });
  const message = { body, attributes };

  const attributeCases: Case[] = [
    ["exact string", { store: ["example_corp"] }, true],
    ["a String.Array matches by any element", { customer_interests: ["rugby"] }, true],
    ["a Number attribute matches numerically", { price_usd: [{ numeric: [">=", 100, "<", 300] }] }, true],
    ["a Number attribute matches an exact number", { price_usd: [210.75] }, true],
    ["a number does not match a String attribute", { store: [{ numeric: [">", 0] }] }, false],
    ["prefix", { event: [{ prefix: "order-" }] }, false],
    ["anything-but", { event: [{ "anything-but": ["order_cancelled"] }] }, true],
    ["anything-but a prefix", { event: [{ "anything-but": { prefix: "order" } }] }, false],
    ["equals-ignore-case", { store: [{ "equals-ignore-case": "EXAMPLE_CORP" }] }, true],
    ["exists", { store: [{ exists: true }] }, true],
    ["exists false", { coupon: [{ exists: false }] }, true],
    ["a missing attribute fails every other matcher", { coupon: ["none"] }, false],
    ["Binary attributes are not matched", { encrypted: [{ exists: true }] }, false],
    ["and across attributes", { store: ["example_corp"], event: ["order_cancelled"] }, false],
    ["$or", { $or: [{ store: ["other_corp"] }, { event: ["order_placed"] }] }, true],
  ];
  for (const [description, policy, expected] of attributeCases) {
    it(`MessageAttributes scope ${expected ? "passes" : "filters out"}: ${description}`, () => {
      expect(matchesFilterPolicy(policy, message, "MessageAttributes")).to.equal(expected);
    });
  }

  const bodyCases: Case[] = [
    ["nested keys", { customer: { interests: ["rugby"] } }, true],
    ["numeric in the body", { price_usd: [{ numeric: [">", 300] }] }, false],
    ["and with top-level keys", { store: ["example_corp"], customer: { interests: [{ prefix: "soc" }] } }, true],
  ];
  for (const [description, policy, expected] of bodyCases) {
    it(`MessageBody scope ${expected ? "passes" : "filters out"}: ${description}`, () => {
      expect(matchesFilterPolicy(policy, message, "MessageBody")).to.equal(expected);
    });
  }

  it("a body that is not JSON passes no MessageBody policy, and SNS has no wildcard operator", () => {
    expect(matchesFilterPolicy({ store: [{ exists: false }] }, { body: "plain text", attributes: {} }, "MessageBody")).to.equal(false);
    expect(() => matchesFilterPolicy({ store: [{ wildcard: "example*" }] }, message)).to.throw('SNS filter policies have no "wildcard" operator');
  });
});

describe("local runtime: EventBridge rules", () => {
  it("refuses a rule whose pattern EventBridge would refuse when the bus starts, naming the rule", () => {
    const rule = { name: "orders-rule", ruleName: "orders-rule", arn: "arn:aws:events:eu-west-1:123456789012:rule/orders-rule", eventBusName: "default", eventPattern: { source: ["shop"], detail: { total: [{ numeric: [">", "1"] }] } } };
    const bus = (eventPattern: unknown) => new LocalEventBridge({ region: "eu-west-1", accountId: "123456789012", rules: [{ ...rule, eventPattern }], targets: [], deliver: () => undefined });
    expect(() => bus(rule.eventPattern)).to.throw(/Rule orders-rule: its event pattern is not one EventBridge accepts \(EventBridge pattern: "numeric" takes operators/);
    expect(() => bus({ source: ["shop"] })).not.to.throw();
  });
});
