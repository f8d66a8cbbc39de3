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
    expect(lines.pop()).to.match(/^name the deployment ids to follow, or --prefix <application name prefix>\n/);
    expect(await main(["follow", "d-1", "--prefix", "x"], print)).to.equal(2);
    expect(lines.pop()).to.match(/^name deployment ids or --prefix, not both\n/);
    expect(await main(["follow", "d-1", "--interval", "0"], print)).to.equal(2);
    expect(await main(["watch"], print)).to.equal(2);
  });

  it("names the fix when the shell has no AWS region", async () => {
    const names = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"];
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    for (const name of names.slice(0, 3)) delete process.env[name];
    process.env.AWS_CONFIG_FILE = process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/aws-config";
    try {
      expect(await main(["follow", "d-1"], print)).to.equal(2);
      expect(lines).to.deep.equal(["No AWS region: set AWS_REGION (or AWS_PROFILE, for a profile with a region), as for the aws CLI."]);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
