import { expect } from "chai";
import { checkFunctionNames, mergeFunctionArgs, planRoutes, routeKeyProblem, routeNamePart, routeSourceArnPath, RouteFunctionArgs } from "../../components/routes";
import { ProblemCollector } from "../../components/validation";
import { HELLO, ORDERS_GET, ORDERS_LIST } from "./support";

type Route = RouteFunctionArgs & { auth?: "a" | "b"; extra?: string };

function plan(routes: Record<string, Route>, limit = 30) {
  const problems = new ProblemCollector();
  const planned = planRoutes<Route, "a" | "b">("api", routes, { memorySize: 256, environment: { A: "1" } }, {
    integrationTimeoutSeconds: limit,
    integrationTimeoutOf: "the test API's",
    omit: ["auth", "scopes", "extra"],
    keyProblem: (key) => (key.startsWith("HEAD") ? "is refused by this API." : undefined),
    authOf: (route, at) => {
      if (!route.auth) problems.add(`${at}.auth`, "is missing.");
      return route.auth;
    },
  }, problems);
  return { ...planned, problems: problems.problems };
}

describe("routes shared by ServerlessApi and RestApi", () => {
  it("groups routes by handler, one function each, named from the handler (not the route's position)", () => {
    const { functions, routes, problems } = plan({
      "GET /a": { handler: HELLO, auth: "a" },
      "POST /b": { handler: ORDERS_LIST, auth: "b", extra: "not a function setting" },
      "GET /c/{id}": { handler: HELLO, auth: "b" },
    });
    expect(problems).to.deep.equal([]);
    expect(functions.map((f) => [f.name, f.routeKeys])).to.deep.equal([["api-hello", ["GET /a", "GET /c/{id}"]], ["api-orders-list", ["POST /b"]]]);
    expect(functions[1].args).to.deep.equal({ handler: ORDERS_LIST, memorySize: 256, environment: { A: "1" } });
    expect(routes.map((r) => [r.routeKey, r.auth, r.handler])).to.deep.equal([["GET /a", "a", HELLO], ["POST /b", "b", ORDERS_LIST], ["GET /c/{id}", "b", HELLO]]);
  });

  it("reports each route's problems with its own checks, the timeout against the API's limit, and same-shape routes", () => {
    const { problems } = plan({
      "HEAD /x": { handler: HELLO, auth: "a" },
      "GET /y": { handler: ORDERS_GET, timeout: 30 },
      "GET /z/{a}": { handler: HELLO, auth: "a", memorySize: 1024 },
      "GET /z/{b}": { handler: ORDERS_GET, auth: "a", timeout: 30 },
    }, 29);
    expect(problems.map((p) => `${p.path}: ${p.reason}`)).to.deep.equal([
      `routes["HEAD /x"]: is refused by this API.`,
      `routes["GET /y"].auth: is missing.`,
      `routes["GET /y"].timeout: 30 seconds is above the test API's 29 s integration limit; lower it, or move long work to a QueueWorker.`,
      `routes["GET /z/{a}"]: uses handler "${HELLO}" with other function settings than "HEAD /x"; give them the same settings (they share one function) or use separate handlers.`,
      `routes["GET /z/{b}"].timeout: 30 seconds is above the test API's 29 s integration limit; lower it, or move long work to a QueueWorker.`,
      `routes["GET /z/{b}"]: differs from "GET /z/{a}" only in a parameter's name, and API Gateway refuses two such routes; keep one of them (one name per parameter).`,
    ]);
  });

  it("refuses an empty routes map and two handlers whose functions would share a name", () => {
    expect(plan({}).problems.map((p) => p.path)).to.deep.equal(["routes"]);
    const problems = new ProblemCollector();
    checkFunctionNames([
      { handler: "a/hello.handler", name: "api-hello", args: { handler: "a/hello.handler" }, routeKeys: [] },
      { handler: "b/hello.handler", name: "api-hello", args: { handler: "b/hello.handler" }, routeKeys: [] },
    ], problems);
    expect(problems.problems).to.deep.equal([{ path: "routes", reason: `handlers "a/hello.handler" and "b/hello.handler" would both be named "api-hello"; rename one of the files or exports.` }]);
  });

  it("merges functionDefaults under a route's own settings, maps and permissions added up", () => {
    const merged = mergeFunctionArgs(
      { memorySize: 256, environment: { A: "1", B: "1" }, permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }] },
      { handler: HELLO, memorySize: 512, environment: { B: "2" }, permissions: [{ actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:eu-west-1:1:q"] }], scopes: ["x"] } as Route,
    );
    expect(merged).to.deep.equal({
      handler: HELLO, memorySize: 512, environment: { A: "1", B: "2" },
      permissions: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/*"] }, { actions: ["sqs:SendMessage"], resources: ["arn:aws:sqs:eu-west-1:1:q"] }],
    });
  });

  it("parses route keys, and derives source ARN paths and child names from them", () => {
    expect(routeKeyProblem("GET /orders/{id}")).to.equal(undefined);
    expect(routeKeyProblem("FETCH /x")).to.match(/has method FETCH/);
    expect(routeKeyProblem("GET /{proxy+}/x")).to.match(/greedy/);
    expect(routeSourceArnPath("ANY /partners/{proxy+}")).to.equal("*/partners/*");
    expect(routeNamePart("GET /orders/{id}")).to.match(/^get-orders-id-[0-9a-f]{6}$/);
    expect(routeNamePart("/")).to.match(/^root-[0-9a-f]{6}$/);
    expect(routeNamePart("GET /a")).to.not.equal(routeNamePart("get /a"));
  });
});
