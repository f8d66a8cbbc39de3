/** The deployment follower (tools/deployments.ts) against the local CodeDeploy, with the real SDK client. */
import { expect } from "chai";
import { main } from "../../tools/deployments";
import { ALARM, ALIAS, BEFORE_HOOK, FUNCTION, Stage } from "./support";

describe("npm run deployments -- follow", function () {
  this.timeout(10_000);
  let stage: Stage;
  let lines: string[];
  const print = (line: string) => lines.push(line);
  beforeEach(() => (lines = []));
  afterEach(async () => stage?.stop());

  it("prints the shift and, on a rollback, the alarm that fired; exits 1", async () => {
    stage = await new Stage({ minuteMs: 100 }).start();
    const { deploymentId } = await stage.runner(stage.request({ waitForCompletion: false }));
    const following = main(["follow", deploymentId!, "--interval", "0.005"], print);
    while (stage.lambda.alias(FUNCTION, ALIAS).weights["2"] !== 0.1 || !lines.some((l) => l.includes("10%"))) await new Promise((r) => setTimeout(r, 3));
    stage.codedeploy.setAlarm(ALARM, "ALARM");
    expect(await following).to.equal(1);
    const label = `${deploymentId} orders/orders-api`;
    expect(lines).to.include.members([
      `${label}: BeforeAllowTraffic Skipped`,
      `${label}: 10% of orders-api:live traffic on version 2 (from 1)`,
      `${label}: Stopped`,
      `${label}: ALARM_ACTIVE: One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: <orders-api-errors>`,
      `${label}: Rolled back: the alias live points at version 1 again.`,
    ]);
    expect(lines.indexOf(`${label}: 10% of orders-api:live traffic on version 2 (from 1)`)).to.be.below(lines.indexOf(`${label}: Stopped`));
  });

  it("finds the recent deployments of the applications under a prefix and follows them to success; exits 0", async () => {
    stage = await new Stage({ minuteMs: 5, checks: { [BEFORE_HOOK]: () => undefined } }).start();
    const { deploymentId } = await stage.runner(stage.request({ waitForCompletion: false, beforeTrafficHook: BEFORE_HOOK }));
    expect(await main(["follow", "--prefix", "ord", "--interval", "0.005"], print)).to.equal(0);
    const label = `${deploymentId} orders/orders-api`;
    expect(lines).to.include.members([`${label}: BeforeAllowTraffic Succeeded`, `${label}: AllowTraffic Succeeded`, `${label}: Succeeded`]);
    expect(lines.filter((l) => l === `${label}: Succeeded`)).to.have.length(1);
  });

  it("says so when there is nothing to follow, and refuses bad arguments with exit 2", async () => {
    stage = await new Stage().start();
    expect(await main(["follow", "--prefix", "billing-"], print)).to.equal(0);
    expect(lines).to.deep.equal(["No deployments in applications named billing-* in the last 60 minutes."]);
    expect(await main(["follow"], print)).to.equal(2);
    expect(await main(["follow", "d-1", "--prefix", "x"], print)).to.equal(2);
    expect(await main(["follow", "d-1", "--interval", "0"], print)).to.equal(2);
    expect(await main(["watch"], print)).to.equal(2);
  });
});
