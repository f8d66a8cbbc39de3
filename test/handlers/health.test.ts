import { expect } from "chai";
import { callHttp, httpEvent, type HttpHandler } from "./support";

describe("handlers/health (GET /health)", () => {
  let handler: HttpHandler;

  before(() => {
    handler = (require("../../handlers/health") as typeof import("../../handlers/health")).handler;
  });

  it('answers 200 { status: "ok" } as JSON', async () => {
    const call = await callHttp(handler, httpEvent({ method: "GET", path: "/health" }));

    expect(call.status).to.equal(200);
    expect(call.body).to.deep.equal({ status: "ok" });
  });
});
