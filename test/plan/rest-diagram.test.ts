/**
 * The plan of a RestApi with every feature (test/fixtures/rest-api.ts): its diagram (the
 * domain and usage plans in front of the API, the stage's settings on it, each route's
 * auth, key and validation, the authorizers in front of exactly the routes they guard),
 * its rows in the resource table, and its diff.
 */
import { expect } from "chai";
import { architectureDiagram } from "../../tools/diagram";
import { diffStacks } from "../../tools/diff";
import { keySettings } from "../../tools/plan-format";
import { stackGraph } from "../../tools/policy-check";
import { restApiProgram } from "../fixtures/rest-api";
import { record, RecordedResource } from "../mocks";

describe("the plan of a RestApi", () => {
  let resources: RecordedResource[];
  let diagram: string;
  before(async () => {
    ({ resources } = await record(() => restApiProgram()));
    diagram = architectureDiagram(resources);
  });

  const lines = () => diagram.split("\n").map((l) => l.trim());
  /** The id of the node whose label starts with `label`. */
  const node = (label: string) => {
    const line = lines().find((l) => new RegExp(`^\\w+\\W*"${label.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`).test(l));
    expect(line, `a node labelled ${label}:\n${diagram}`).to.be.a("string");
    return /^(\w+)/.exec(line!)![1];
  };
  const edges = () => lines().filter((l) => l.includes("->"));

  it("draws the API with its stage, throttle, logs, tracing and WAF, the domain in front of it", () => {
    const api = node("REST API partner-api<br/>stage v1, regional<br/>throttle 50 rps, burst 100<br/>JSON access logs, X-Ray<br/>WAF: block an IP above 2000 per 5 min");
    expect(edges()).to.include(`${node("https://partners.example.com/v1<br/>custom domain, TLS_1_2")} --> ${api}`);
  });

  it("draws one node per usage plan with its keys, throttle and quota, in front of the API", () => {
    const api = node("REST API partner-api");
    const gold = node("usage plan gold<br/>keys acme, globex<br/>throttle 100 rps, burst 200<br/>quota 100000 per month");
    const free = node("usage plan free<br/>keys acme, initech<br/>stage throttle<br/>quota 1000 per day");
    expect(edges()).to.include.members([`${gold} -.->|"x-api-key"| ${api}`, `${free} -.->|"x-api-key"| ${api}`]);
    // A key in two plans is written in both, not drawn as a node of its own.
    expect(diagram).not.to.match(/"API key|"acme/);
  });

  it("draws every route (method and path) from the API into its function, with its auth, key and validation", () => {
    const api = node("REST API partner-api");
    const fn = node("λ partner-api-hello");
    const routes = [
      "GET /orders<br/>Cognito, scopes orders/read",
      "POST /orders<br/>Cognito<br/>body checked against its schema",
      "GET /orders/{orderId}<br/>Lambda authorizer<br/>requires header x-tenant",
      "ANY /partners/{proxy+}<br/>public, API key",
      "GET /admin<br/>IAM",
      "GET /health<br/>public",
    ];
    for (const label of routes) {
      const id = node(label);
      expect(diagram).to.include(`${id}[/"${label}"/]`);
      expect(edges()).to.include.members([`${api} --> ${id}`, `${id} --> ${fn}`]);
    }
  });

  it("draws each authorizer in front of exactly the routes it guards", () => {
    const pool = node("Cognito partners");
    const authorizer = node("λ partner-api-authorizer");
    expect(edges().filter((e) => e.startsWith(`${pool} `))).to.have.members([
      `${pool} -.->|"Cognito authorizer"| ${node("GET /orders<br/>")}`,
      `${pool} -.->|"Cognito authorizer"| ${node("POST /orders<br/>")}`,
    ]);
    expect(edges().filter((e) => e.startsWith(`${authorizer} `))).to.deep.equal([`${authorizer} -.->|"TOKEN authorizer, cache 5 min"| ${node("GET /orders/{orderId}")}`]);
  });

  it("stays compact: 6 routes, 2 plans and 3 keys add 10 nodes besides the functions and the pool", () => {
    const nodes = lines().filter((l) => /^\w+[[(]/.test(l) && !l.includes("subgraph"));
    const besides = nodes.filter((l) => !/"(λ |Cognito )/.test(l));
    expect(besides, besides.join("\n")).to.have.length(10);
  });

  it("lists the REST API's settings in the resource table, a method with its path", () => {
    const graph = stackGraph(resources);
    const settings = (name: string) => keySettings(resources.find((r) => r.name === name)!, graph);
    expect(settings("partner-api-method-get-orders-order-id-0c8e0c")).to.equal("route=GET /orders/{orderId} auth=CUSTOM parameters=header.x-tenant");
    expect(settings("partner-api-method-post-orders-be6d73")).to.equal("route=POST /orders auth=COGNITO_USER_POOLS schema=application/json");
    expect(settings("partner-api-method-any-partners-proxy-7b1305")).to.equal("route=ANY /partners/{proxy+} auth=NONE apiKey=required");
    expect(settings("partner-api-integration-get-admin-f64704")).to.equal("method=GET type=AWS_PROXY target=shop-dev-partner-api-hello timeout=29s");
    expect(settings("partner-api-lambda-authorizer")).to.equal("type=TOKEN identity=method.request.header.Authorization ttl=300s target=shop-dev-partner-api-authorizer");
    expect(settings("partner-api-cognito")).to.equal("type=COGNITO_USER_POOLS identity=method.request.header.Authorization pools=1");
    expect(settings("partner-api-stage")).to.equal("stage=v1 tracing=on accessLogs=json");
    expect(settings("partner-api-method-settings")).to.equal("path=*/* rate=50 burst=100 metrics=on");
    expect(settings("partner-api-plan-gold")).to.equal("rate=100 burst=200 quota=100000/MONTH");
    expect(settings("partner-api-plan-free")).to.equal("rate=stage quota=1000/DAY");
    expect(settings("partner-api-waf")).to.equal("scope=REGIONAL rules=rate-per-ip(2000/300s per IP)");
    expect(settings("partner-api-domain")).to.equal("domain=partners.example.com tls=TLS_1_2 endpoint=REGIONAL");
    expect(settings("partner-api-mapping")).to.equal("basePath=v1 stage=v1");
    expect(settings("partner-api-validate-body")).to.equal("body=yes parameters=no");
  });

  it("diffs two stacks setting by setting, without the deployment's opaque trigger digest", async () => {
    const prod = await record(() => restApiProgram({ goldRateLimit: 500, orderSchema: false }), { stack: "prod" });
    const diff = await diffStacks({ stack: "dev", resources }, { stack: "prod", resources: prod.resources });
    expect(diff.resources.map((r) => [r.status, `${r.type} ${r.name}`, ...r.changes.map((c) => `${c.path}: ${c.from} -> ${c.to}`)])).to.deep.equal([
      ["only-first", "apigateway:Model partner-api-model-post-orders-be6d73"],
      ["only-first", "apigateway:RequestValidator partner-api-validate-body"],
      ["changed", "apigateway:Method partner-api-method-post-orders-be6d73", "requestModels.application/json: Rpostordersbe6d73 -> undefined", "requestValidatorId: body-5a9cab4c7c -> undefined"],
      ["changed", "apigateway:UsagePlan partner-api-plan-gold", "throttleSettings.rateLimit: 100 -> 500"],
    ]);
    // The digest did change: left out because the method and the model say what did.
    const digest = (rs: RecordedResource[]) => rs.find((r) => r.type === "aws:apigateway/deployment:Deployment")!.inputs.triggers.definition;
    expect(digest(prod.resources)).not.to.equal(digest(resources));
  });
});
