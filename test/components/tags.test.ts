import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { EventWorker, QueueWorker, SecureFunction, ServerlessApi, StreamWorker } from "../../components";
import { TAGGABLE_TYPES, tagging } from "../../components/tags";
import { TAGGABLE_TYPES as POLICY_TAGGABLE_TYPES } from "../../policy/rules";
import { record, RecordedResource, stackPlan } from "../mocks";
import { expectRefused, HELLO, libraryTags, TYPES, WORKER } from "./support";

const TABLE_STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000";

/** Whether @pulumi/<package>'s args interface for a type token declares `tags`. */
function argsDeclareTags(type: string): boolean {
  const [pkg, module, kind] = type.split(":");
  const file = pkg === "aws" ? module : `${module}/${kind[0].toLowerCase()}${kind.slice(1)}`;
  const declarations = fs.readFileSync(path.join(path.dirname(require.resolve(`@pulumi/${pkg}/package.json`)), `${file}.d.ts`), "utf8");
  const args = new RegExp(`export interface ${kind}Args \\{([\\s\\S]*?)\\n\\}`).exec(declarations);
  if (!args) throw new Error(`no ${kind}Args in @pulumi/${pkg}/${file}.d.ts`);
  return /\n\s*(readonly )?tags\?:/.test(args[1]);
}

const custom = (resources: RecordedResource[]) => resources.filter((r) => r.custom);
const taggable = (resources: RecordedResource[]) => custom(resources).filter((r) => TAGGABLE_TYPES.has(r.type));

/** One of each component, as a program would declare them. */
function everyComponent() {
  const tags = { team: "orders" };
  new SecureFunction("fn", { handler: HELLO, tags, parameters: { mode: "fast" } });
  new QueueWorker("jobs", { handler: WORKER, tags });
  new StreamWorker("changes", { handler: WORKER, streamArn: TABLE_STREAM, tags });
  new EventWorker("events", { handler: WORKER, tags, triggers: { nightly: { schedule: { expression: "rate(1 hour)" } } } });
  new ServerlessApi("api", { tags, routes: { "GET /hello": { handler: HELLO, auth: "none" } } });
}

describe("Tags", () => {
  describe("the list of taggable types", () => {
    it("names only types whose args take tags in @pulumi/aws (and awsx)", () => {
      const wrong = [...TAGGABLE_TYPES].filter((type) => !argsDeclareTags(type));
      expect(wrong).to.deep.equal([]);
    });

    it("names every type the components and the program's stacks register that takes tags", async () => {
      const registered = new Set<string>();
      for (const r of (await record(everyComponent)).resources) if (r.custom) registered.add(r.type);
      for (const stack of ["dev", "prod"]) for (const r of (await stackPlan(stack)).resources) if (r.type.startsWith("aws")) registered.add(r.type);
      const missing = [...registered].filter((type) => !TAGGABLE_TYPES.has(type) && argsDeclareTags(type));
      expect(missing).to.deep.equal([]);
    });

    it("is the policy pack's copy", () => {
      expect([...POLICY_TAGGABLE_TYPES].sort()).to.deep.equal([...TAGGABLE_TYPES].sort());
    });
  });

  describe("on the children of every component", () => {
    let resources: RecordedResource[];
    before(async () => {
      ({ resources } = await record(everyComponent));
    });

    it("gives every taggable child the component's tags, project, stack and component", () => {
      const components = new Map(resources.filter((r) => !r.custom).map((r) => [r.urn, r]));
      const outermost = (r: RecordedResource): RecordedResource => {
        let owner = components.get(r.parent!)!;
        while (owner.parent && components.get(owner.parent)?.type.startsWith("serverless-components:")) owner = components.get(owner.parent)!;
        return owner;
      };
      const children = taggable(resources);
      expect(new Set(children.map((r) => r.type))).to.include.members([TYPES.function, TYPES.role, TYPES.logGroup, TYPES.alarm, TYPES.parameter, TYPES.queue, TYPES.api, TYPES.stage, TYPES.eventSourceMapping]);
      for (const child of children) {
        const owner = outermost(child);
        expect(child.inputs.tags, `${child.type} ${child.name}`).to.deep.equal({ team: "orders", ...libraryTags(`${owner.type.split(":").pop()}/${owner.name}`) });
      }
    });

    it("leaves resources whose inputs take no tags untouched", () => {
      const untaggable = custom(resources).filter((r) => !TAGGABLE_TYPES.has(r.type));
      expect(new Set(untaggable.map((r) => r.type))).to.include.members([TYPES.rolePolicy, TYPES.route, TYPES.integration, TYPES.permission, TYPES.queuePolicy]);
      for (const r of untaggable) expect(r.inputs, `${r.type} ${r.name}`).not.to.have.property("tags");
    });
  });

  describe("precedence", () => {
    it("stack tags < the outer component's < a nested component's < the resource's own; project, stack and component are the library's", async () => {
      const { resources } = await record(() => {
        pulumi.runtime.registerStackTransformation(tagging({ "cost-center": "stack", team: "stack", owner: "stack" }));
        const api = new ServerlessApi("shop-api", {
          tags: { team: "api", owner: "api", tier: "api" },
          routes: { "GET /items": { handler: HELLO, auth: "none", tags: { tier: "route", owner: "route" } } },
        });
        new aws.sqs.Queue("own", { tags: { owner: "own", component: "mine" } }, { parent: api });
      });
      const fn = resources.find((r) => r.type === TYPES.function)!;
      expect(fn.inputs.tags).to.deep.equal({ "cost-center": "stack", team: "api", owner: "route", tier: "route", ...libraryTags("ServerlessApi/shop-api") });
      const stage = resources.find((r) => r.type === TYPES.stage)!;
      expect(stage.inputs.tags).to.deep.equal({ "cost-center": "stack", team: "api", owner: "api", tier: "api", ...libraryTags("ServerlessApi/shop-api") });
      const own = resources.find((r) => r.name === "own")!;
      expect(own.inputs.tags).to.deep.equal({ "cost-center": "stack", team: "api", owner: "own", tier: "api", ...libraryTags("ServerlessApi/shop-api") });
    });

    it("names a resource outside any component after its type and name, and keeps Output values", async () => {
      const { resources } = await record(() => {
        pulumi.runtime.registerStackTransformation(tagging({ owner: pulumi.output("platform") }));
        new aws.dynamodb.Table("orders", { hashKey: "id", attributes: [{ name: "id", type: "S" }], tags: pulumi.output({ purpose: "orders" }) });
        new aws.iam.RolePolicy("untaggable", { role: "r", policy: "{}" });
      });
      expect(resources.find((r) => r.name === "orders")!.inputs.tags).to.deep.equal({ owner: "platform", purpose: "orders", ...libraryTags("dynamodb.Table/orders") });
      expect(resources.find((r) => r.name === "untaggable")!.inputs).not.to.have.property("tags");
    });

    it("takes a component's tags as one Output, as another language may pass them", async () => {
      const tags = pulumi.output({ team: "orders" }) as unknown as Record<string, string>;
      const { resources } = await record(() => new SecureFunction("fn", { handler: HELLO, tags }));
      expect(resources.find((r) => r.type === TYPES.logGroup)!.inputs.tags).to.deep.equal({ team: "orders", ...libraryTags("SecureFunction/fn") });
    });
  });

  describe("validation", () => {
    it("refuses keys and values AWS refuses, and the library's keys, all in one round", async () => {
      await expectRefused(() => new SecureFunction("fn", {
        handler: HELLO,
        tags: { "aws:owner": "x", project: "mine", "": "x", ["k".repeat(129)]: "x", "bad#key": "x", long: "v".repeat(257), chars: "a;b", ok: pulumi.output("any") },
      }), "SecureFunction", "fn", [
        ["tags.aws:owner", /starts with "aws:", which AWS reserves/],
        ["tags.project", /is set by the library .*choose another key/],
        ["tags.", /not a valid tag key; use 1-128 characters/],
        [`tags.${"k".repeat(129)}`, /not a valid tag key/],
        ["tags.bad#key", /not a valid tag key; use 1-128 characters: letters, digits, spaces and _.:\/=\+-@/],
        ["tags.long", /is not a valid tag value; use 0-256 characters/],
        ["tags.chars", /"a;b" is not a valid tag value/],
      ]);
    });

    it("refuses tags that are not a map, and values that are not strings", async () => {
      await expectRefused(() => new SecureFunction("fn", { handler: HELLO, tags: ["team"] as never }), "SecureFunction", "fn", [
        ["tags", /\["team"\] is not a map of tag keys to values; write e.g. \{ team: "orders" \}/],
      ]);
      await expectRefused(() => new SecureFunction("fn", { handler: HELLO, tags: { size: 5 as never, on: true as never } }), "SecureFunction", "fn", [
        ["tags.size", /5 is not a string; write it as one, e.g. "5"/],
        ["tags.on", /true is not a string; write it as one, e.g. "true"/],
      ]);
    });

    it("counts the library's keys and the stack's aws:defaultTags against AWS's 50 per resource", async () => {
      const tags = Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`key${index}`, "v"]));
      const defaultTags = JSON.stringify({ tags: Object.fromEntries(Array.from({ length: 8 }, (_, index) => [`default${index}`, "v"])) });
      const { error } = await (async () => {
        let thrown: any;
        await record(() => {
          try {
            new QueueWorker("jobs", { handler: WORKER, tags });
          } catch (caught) {
            thrown = caught;
          }
        }, { config: { "aws:defaultTags": defaultTags } });
        return { error: thrown };
      })();
      expect(error?.problems).to.deep.equal([{ path: "tags", reason: "gives 51 tags per resource with the library's 3 and the stack's aws:defaultTags, above AWS's 50; remove 1." }]);
    });

    it("checks a route's tags under its path, and the API's own", async () => {
      await expectRefused(() => new ServerlessApi("api", {
        tags: { "aws:x": "y" },
        routes: { "GET /a": { handler: HELLO, auth: "none", tags: { stack: "mine" } } },
      }), "ServerlessApi", "api", [
        ["tags.aws:x", /reserves/],
        [`routes["GET /a"].tags.stack`, /is set by the library/],
      ]);
    });
  });
});
