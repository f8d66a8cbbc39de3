/**
 * The diagram of an API with a Lambda authorizer and a custom domain: the domain in front
 * of the API, the authorizer's function in front of exactly the routes it guards.
 */
import { expect } from "chai";
import { ServerlessApi } from "../../components";
import { architectureDiagram } from "../../tools/diagram";
import { record } from "../mocks";

const HELLO = "test/fixtures/hello.handler";

describe("diagram: Lambda authorizers and custom domains", () => {
  let diagram: string;
  before(async () => {
    const { resources } = await record(() => new ServerlessApi("partner-api", {
      auth: { lambda: { handler: "test/fixtures/authorizer.handler" } },
      domain: { name: "partners.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ", basePath: "v1" },
      routes: {
        "GET /things": { handler: HELLO, auth: "lambda" },
        "GET /health": { handler: HELLO, auth: "none" },
      },
    }));
    diagram = architectureDiagram(resources);
  });

  /** The id of the node whose label starts with `label`. */
  const node = (label: string) => {
    const line = diagram.split("\n").find((l) => l.includes(`"${label}`));
    expect(line, `a node labelled ${label}:\n${diagram}`).to.be.a("string");
    return line!.trim().split(/\W/)[0];
  };
  const edges = () => diagram.split("\n").map((l) => l.trim()).filter((l) => l.includes("->"));

  it("draws the custom domain, with its security policy, in front of the API", () => {
    expect(edges()).to.include(`${node("https://partners.example.com/v1<br/>custom domain, TLS_1_2")} --> ${node("HTTP API partner-api")}`);
  });

  it("draws the authorizer's function in front of the routes it guards, and only those", () => {
    const authorizer = node("λ partner-api-authorizer");
    const guarded = node("GET /things<br/>Lambda authorizer");
    expect(edges()).to.include(`${authorizer} -.->|"authorizes"| ${guarded}`);
    expect(edges().filter((e) => e.startsWith(`${authorizer} `))).to.have.length(1);
    expect(diagram).to.include("GET /health<br/>public");
  });
});
