/**
 * Upgrading in place: stacks deployed before 1.0.0 registered `serverless:index:*`. Every
 * component must keep its URN through a type alias, and its children (whose URNs carry the
 * parent's type) through the parent's aliases, or `pulumi up` after an upgrade would
 * replace live resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { allAliases } from "@pulumi/pulumi/resource";
import { expect } from "chai";
import { QueueWorker, ServerlessApi } from "../../components";
import { startEngine } from "../../tools/mock-engine";
import { HELLO, TEST_PROJECT, TEST_REGION, TEST_STACK, WORKER } from "../components/support";

/** The value of an Output, awaited. */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

interface AliasSpec { type: string; name: string; noParent: boolean; parentUrn: string }

describe("upgrading from the serverless:index:* tokens", () => {
  const specs = new Map<string, AliasSpec[]>();
  const parents = new Map<string, string>();
  let worker: QueueWorker;

  before(async () => {
    await startEngine({ project: TEST_PROJECT, stack: TEST_STACK, config: { "aws:region": TEST_REGION } });
    const monitor = (pulumi.runtime as any).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    // The alias specs exactly as the engine receives them (it resolves them to URNs).
    monitor.registerResource = (request: any, callback: (error: unknown, response: any) => void) =>
      register(request, (error: unknown, response: any) => {
        if (!error) {
          parents.set(`${request.getType()}::${request.getName()}`, request.getParent());
          specs.set(`${request.getType()}::${request.getName()}`, request.getAliasesList().map((alias: any) => {
            const spec = alias.getSpec();
            return { type: spec.getType(), name: spec.getName(), noParent: spec.getNoparent(), parentUrn: spec.getParenturn() };
          }));
        }
        callback(error, response);
      });
    await pulumi.runtime.runInPulumiStack(async () => {
      new ServerlessApi("shop-api", { routes: { "GET /hello": { handler: HELLO, auth: "none" } } });
      worker = new QueueWorker("jobs", { handler: WORKER });
    });
    await require("@pulumi/pulumi/runtime/settings").waitForRPCs();
  });

  it("gives every component, nested ones included, an alias to its old type under the same name and parent", () => {
    const components = [...specs.keys()].filter((key) => key.startsWith("serverless-components:index:")).sort();
    expect(components).to.deep.equal([
      "serverless-components:index:QueueWorker::jobs",
      "serverless-components:index:SecureFunction::jobs-consumer",
      "serverless-components:index:SecureFunction::shop-api-hello",
      "serverless-components:index:ServerlessApi::shop-api",
    ]);
    for (const key of components) {
      const className = key.split("::")[0].split(":")[2];
      expect(specs.get(key), key).to.deep.equal([{ type: `serverless:index:${className}`, name: "", noParent: false, parentUrn: parents.get(key) }]);
    }
  });

  it("keeps the URN of a renamed child: the consumer SecureFunction inside a QueueWorker", async () => {
    const consumer = worker.function;
    // The SDK's own alias resolution (what the engine does with the specs above): the
    // child's alias combined with each of its parent's aliases.
    const urns = await valueOf(pulumi.all(allAliases([{ type: "serverless:index:SecureFunction" }], "jobs-consumer", "serverless-components:index:SecureFunction", worker, "jobs")));
    const oldWorker = pulumi.createUrn("jobs", "serverless:index:QueueWorker");
    const oldConsumer = await valueOf(pulumi.createUrn("jobs-consumer", "serverless:index:SecureFunction", oldWorker));
    expect(urns).to.include(oldConsumer);
    expect(await valueOf(consumer.urn)).not.to.equal(oldConsumer);
  });

  it("adds no aliases of its own to AWS children: they follow their component's", () => {
    const awsChildren = [...specs.entries()].filter(([key]) => key.startsWith("aws:"));
    expect(awsChildren.length).to.be.greaterThan(20);
    for (const [key, aliases] of awsChildren) expect(aliases, key).to.deep.equal([]);
  });
});
