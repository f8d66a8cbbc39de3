/** `npm run dev`'s command line, read without running anything. */
import { expect } from "chai";
import { findQueue, parseDevCommand } from "../../local/cli";

describe("local runtime: the npm run dev command line", () => {
  const queue = (name: string) => ({ name, url: `http://127.0.0.1:1/123456789012/${name}`, arn: `arn:aws:sqs:eu-west-1:123456789012:${name}` });
  const queues = [queue("shop-dev-fulfilment"), queue("shop-dev-fulfilment-dlq"), queue("shop-dev-billing-fulfilment")];

  it("reads send, dlq and serve command lines", () => {
    expect(parseDevCommand(["send", "fulfilment", '{"orderId":"nope"}'])).to.deep.equal({ kind: "send", stack: "dev", queue: "fulfilment", body: '{"orderId":"nope"}' });
    expect(parseDevCommand(["send", "jobs", "x", "--stack", "prod"])).to.deep.include({ kind: "send", stack: "prod" });
    expect(parseDevCommand(["put", "orders", '{"orderId":"nope"}', "--stack", "prod"])).to.deep.equal({ kind: "put", stack: "prod", table: "orders", item: '{"orderId":"nope"}' });
    expect(() => parseDevCommand(["put", "orders"])).to.throw(/put takes a table and an item, e\.g\. put orders '\{"orderId":"nope"\}'; got 1 argument/);
    expect(parseDevCommand(["dlq", "redrive"])).to.deep.equal({ kind: "dlq", stack: "dev", action: "redrive" });
    expect(parseDevCommand(["prod", "--persist"])).to.deep.include({ kind: "serve", stack: "prod" });
    expect(parseDevCommand(["send", "--help"])).to.deep.equal({ kind: "help" });
    expect(() => parseDevCommand(["send", "fulfilment"])).to.throw(/send takes a queue and a message body, e\.g\. send fulfilment '\{"orderId":"nope"\}'; got 1 argument/);
    expect(() => parseDevCommand(["dlq", "purge"])).to.throw(/dlq purge: use "list" or "redrive"/);
  });

  it("reads fire command lines, one schedule at a time", () => {
    expect(parseDevCommand(["fire", "nightly", "--stack", "prod"])).to.deep.equal({ kind: "fire", stack: "prod", schedule: "nightly" });
    expect(() => parseDevCommand(["fire"])).to.throw("fire takes one schedule, e.g. fire nightly; got 0 argument(s).");
  });

  it("finds a queue by its whole name or its end, and names the queues when it cannot", () => {
    expect(findQueue(queues, "shop-dev-fulfilment-dlq").name).to.equal("shop-dev-fulfilment-dlq");
    expect(findQueue(queues, "dlq").name).to.equal("shop-dev-fulfilment-dlq");
    expect(findQueue(queues, "billing-fulfilment").name).to.equal("shop-dev-billing-fulfilment");
    expect(() => findQueue(queues, "fulfilment")).to.throw('"fulfilment" names 2 queues (shop-dev-fulfilment, shop-dev-billing-fulfilment); give the whole name.');
    expect(() => findQueue(queues, "orders")).to.throw('No queue "orders": the queues are shop-dev-fulfilment, shop-dev-fulfilment-dlq, shop-dev-billing-fulfilment.');
  });
});
