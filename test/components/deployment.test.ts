import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { expect } from "chai";
import { SecureFunction, SecureFunctionArgs } from "../../components";
import { BUNDLE_FILE, BUNDLING_DEFAULTS, bundleHandler, wrappedEntryOptions } from "../../components/bundling";
import { DeploymentArgs, deploymentSeconds, hookWrapper, predefinedConfig, RUNNER_TIMEOUT_SECONDS, runnerHandler, WAIT_BUDGET_SECONDS } from "../../components/deployment";
import { STOP_MARGIN_MS } from "../../components/deployment-runtime/runner";
import { HOOK_ACTIONS, HOOK_ENVIRONMENT, RUNNER_ACTIONS } from "../../components/deployment-runtime/contract";
import { Evaluation } from "../../tools/mock-engine";
import { one, ofType, RecordedResource } from "../mocks";
import { ACCOUNT, archiveFiles, childrenOf, expectRefused, HELLO, lambdaArn, libraryTags, physical, recordComponent, statementsBySid, TEST_REGION, TYPES } from "./support";

const ROOT = process.cwd();
const CHECK = "test/fixtures/deploy-check.check";
const CJS_CHECK = "test/fixtures/deploy-check.cjs.check";
const T = {
  application: "aws:codedeploy/application:Application",
  group: "aws:codedeploy/deploymentGroup:DeploymentGroup",
  config: "aws:codedeploy/deploymentConfig:DeploymentConfig",
  invocation: "aws:lambda/invocation:Invocation",
};
const codedeployArn = (resource: string) => `arn:aws:codedeploy:${TEST_REGION}:${ACCOUNT}:${resource}`;
const alarmArn = (name: string) => `arn:aws:cloudwatch:${TEST_REGION}:${ACCOUNT}:alarm:${name}`;

function recordDeployed(args: Partial<SecureFunctionArgs> & { deployment: DeploymentArgs }) {
  return recordComponent(() => new SecureFunction("api", { handler: HELLO, ...args }), (component) => ({
    targetArn: component.targetArn,
    deployment: component.deployment!,
  }));
}

function refuse(deployment: unknown, problems: Array<[string, RegExp]>, extra: Partial<SecureFunctionArgs> = {}) {
  return expectRefused(() => new SecureFunction("api", { handler: HELLO, ...extra, deployment: deployment as DeploymentArgs }), "SecureFunction", "api", problems);
}

/** Writes a bundle to a fresh folder and imports it with Node. */
async function loadBundle(files: Record<string, string>): Promise<Record<string, any>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "hook-bundle-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(out, name), text);
  return import(pathToFileURL(path.join(out, BUNDLE_FILE)).href);
}

describe("SecureFunction deployment", () => {
  describe("canary 10% for 5 minutes with a before-traffic hook and provisioned concurrency", () => {
    let evaluation: Evaluation & { component: SecureFunction };
    let resources: RecordedResource[];
    let fn: RecordedResource;
    let group: RecordedResource;

    before(async () => {
      evaluation = await recordDeployed({
        provisionedConcurrency: 2,
        deployment: { strategy: "canary", percentage: 10, minutes: 5, beforeTraffic: CHECK, alarms: ["shop-dev-orders-5xx"] },
      });
      resources = evaluation.resources;
      fn = one(resources, TYPES.function, "api");
      group = one(resources, T.group);
    });

    it("adds exactly the deployment's children to the function's", () => {
      const component = one(resources, TYPES.secureFunction, "api");
      expect(childrenOf(resources, component.urn).map((r) => `${r.type}::${r.name}`).sort()).to.deep.equal([
        `${TYPES.role}::api-role`, `${TYPES.rolePolicy}::api-policy`, `${TYPES.logGroup}::api-logs`, `${TYPES.function}::api`,
        `${TYPES.alias}::api-alias`, `${TYPES.provisioned}::api-provisioned`,
        `${TYPES.alarm}::api-errors`, `${TYPES.alarm}::api-throttles`, `${TYPES.alarm}::api-duration`,
        `${TYPES.alarm}::api-version-errors`, `${TYPES.alarm}::api-version-duration`,
        `${T.application}::api-deployments`, `${T.group}::api-deployment-group`,
        `${TYPES.role}::api-deploy-role`, `${TYPES.rolePolicy}::api-deploy-policy`,
        `${TYPES.secureFunction}::api-before-traffic`, `${TYPES.secureFunction}::api-deployer`,
        `${T.invocation}::api-deployment`,
      ].sort());
      expect(ofType(resources, T.config), "a predefined config is used").to.deep.equal([]);
    });

    it("publishes versions and creates the alias once, then leaves it to CodeDeploy", async () => {
      expect(fn.inputs.publish).to.equal(true);
      const alias = one(resources, TYPES.alias, "api-alias");
      expect(alias.inputs).to.deep.include({ name: "live", functionName: "shop-dev-api", functionVersion: "1" });
      expect(alias.ignoreChanges).to.deep.equal(["functionVersion", "routingConfig"]);
      expect(await new Promise((resolve) => evaluation.component.targetArn.apply(resolve))).to.equal(lambdaArn("shop-dev-api", "live"));
    });

    it("keeps provisioned concurrency on the published version, which the runner waits for", () => {
      const provisioned = one(resources, TYPES.provisioned, "api-provisioned");
      expect(provisioned.inputs).to.deep.equal({ functionName: "shop-dev-api", qualifier: "1", provisionedConcurrentExecutions: 2 });
      expect(one(resources, T.invocation).dependencies).to.include(provisioned.urn);
    });

    it("creates a Lambda application and a blue/green group with alarm rollback on the function's and the version's alarms", () => {
      expect(one(resources, T.application).inputs).to.deep.equal({ name: "shop-dev-api", computePlatform: "Lambda", tags: libraryTags("SecureFunction/api") });
      expect(group.inputs).to.deep.equal({
        appName: "shop-dev-api",
        deploymentGroupName: "shop-dev-api",
        serviceRoleArn: `arn:aws:iam::${ACCOUNT}:role/shop-dev-api-deploy`,
        deploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        deploymentStyle: { deploymentOption: "WITH_TRAFFIC_CONTROL", deploymentType: "BLUE_GREEN" },
        autoRollbackConfiguration: { enabled: true, events: ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] },
        alarmConfiguration: { enabled: true, alarms: ["shop-dev-api-errors", "shop-dev-api-duration", "shop-dev-api-version-errors", "shop-dev-api-version-duration", "shop-dev-orders-5xx"] },
        tags: libraryTags("SecureFunction/api"),
      });
    });

    it("watches the new version through the alias's ExecutedVersion dimension", () => {
      const errors = one(resources, TYPES.alarm, "api-version-errors");
      expect(errors.inputs.dimensions).to.deep.equal({ FunctionName: "shop-dev-api", Resource: "shop-dev-api:live", ExecutedVersion: "1" });
      expect(errors.inputs).to.include({ metricName: "Errors", statistic: "Sum", threshold: 1 });
      expect(one(resources, TYPES.alarm, "api-version-duration").inputs).to.include({
        metricName: "Duration", extendedStatistic: "p99", threshold: 8000,
        alarmDescription: "api: the version being deployed reached 80% of the 10 s timeout at p99 (rolls the deployment back).",
      });
    });

    it("gives CodeDeploy a role for this alias, its hook and its alarms only, no managed policy", () => {
      const role = one(resources, TYPES.role, "api-deploy-role");
      expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).to.deep.equal({ Service: "codedeploy.amazonaws.com" });
      expect(role.inputs).not.to.have.property("managedPolicyArns");
      expect(ofType(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.deep.equal([]);
      const hookArn = lambdaArn(physical("api-before-traffic"));
      expect(statementsBySid(one(resources, TYPES.rolePolicy, "api-deploy-policy"))).to.deep.equal({
        ShiftOwnAlias: { Effect: "Allow", Action: ["lambda:GetAlias", "lambda:UpdateAlias"], Resource: [lambdaArn("shop-dev-api", "live")] },
        ReadOwnProvisionedConcurrency: { Effect: "Allow", Action: ["lambda:GetProvisionedConcurrencyConfig"], Resource: [lambdaArn("shop-dev-api"), `${lambdaArn("shop-dev-api")}:*`] },
        WatchRollbackAlarms: {
          Effect: "Allow", Action: ["cloudwatch:DescribeAlarms"],
          Resource: ["shop-dev-api-errors", "shop-dev-api-duration", "shop-dev-api-version-errors", "shop-dev-api-version-duration", "shop-dev-orders-5xx"].map(alarmArn),
        },
        InvokeOwnHooks: { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [hookArn, `${hookArn}:*`] },
      });
    });

    it("bundles the hook around the user's check, with the target in its environment and HOOK_ACTIONS only on this function and group", async () => {
      const hook = one(resources, TYPES.function, "api-before-traffic");
      expect(hook.inputs.timeout).to.equal(60);
      expect(hook.inputs.environment.variables).to.deep.equal({
        [HOOK_ENVIRONMENT.functionName]: "shop-dev-api",
        [HOOK_ENVIRONMENT.aliasName]: "live",
        [HOOK_ENVIRONMENT.targetVersion]: "1",
        [HOOK_ENVIRONMENT.lifecycleEvent]: "BeforeAllowTraffic",
        FUNCTION_TIMEOUT_SECONDS: "60",
      });
      expect(hook.inputs.handler).to.equal("index.check");
      const files = await archiveFiles(hook);
      expect(files[BUNDLE_FILE]).to.include("the new version is bad");
      const statements = statementsBySid(one(resources, TYPES.rolePolicy, "api-before-traffic-policy"));
      expect(Object.keys(statements).sort()).to.deep.equal(["Granted0", "Granted1", "Tracing", "WriteOwnLogs"]);
      expect([statements.Granted0, statements.Granted1]).to.deep.equal([
        { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [lambdaArn("shop-dev-api"), `${lambdaArn("shop-dev-api")}:*`] },
        { Effect: "Allow", Action: ["codedeploy:PutLifecycleEventHookExecutionStatus"], Resource: [codedeployArn("deploymentgroup:shop-dev-api/shop-dev-api")] },
      ]);
      expect(Object.keys(HOOK_ACTIONS).sort()).to.deep.equal([...statements.Granted0.Action, ...statements.Granted1.Action].sort());
    });

    it("runs the runner (900 s, 256 MB) with exactly RUNNER_ACTIONS on the resources they name", () => {
      const runner = one(resources, TYPES.function, "api-deployer");
      expect(runner.inputs).to.include({ timeout: 900, memorySize: 256 });
      const statements = statementsBySid(one(resources, TYPES.rolePolicy, "api-deployer-policy"));
      const granted = Object.entries(statements).filter(([sid]) => sid.startsWith("Granted")).map(([, statement]) => statement);
      expect(granted).to.deep.equal([
        { Effect: "Allow", Action: ["lambda:GetAlias"], Resource: [lambdaArn("shop-dev-api"), lambdaArn("shop-dev-api", "live")] },
        {
          Effect: "Allow",
          Action: ["codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:ListDeployments", "codedeploy:StopDeployment"],
          Resource: [codedeployArn("deploymentgroup:shop-dev-api/shop-dev-api")],
        },
        { Effect: "Allow", Action: ["codedeploy:GetDeploymentConfig"], Resource: [codedeployArn("deploymentconfig:CodeDeployDefault.LambdaCanary10Percent5Minutes")] },
        { Effect: "Allow", Action: ["codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision"], Resource: [codedeployArn("application:shop-dev-api")] },
      ]);
      expect(granted.flatMap((statement) => statement.Action).sort()).to.deep.equal(Object.keys(RUNNER_ACTIONS).sort());
    });

    it("invokes the runner with a DeploymentRequest whenever a version is published or the config changes", async () => {
      const invocation = one(resources, T.invocation);
      expect(invocation.inputs.functionName).to.equal(physical("api-deployer"));
      expect(JSON.parse(invocation.inputs.input)).to.deep.equal({
        applicationName: "shop-dev-api",
        deploymentGroupName: "shop-dev-api",
        functionName: "shop-dev-api",
        aliasName: "live",
        targetVersion: "1",
        beforeTrafficHook: physical("api-before-traffic"),
        waitForCompletion: true,
      });
      expect(invocation.inputs.triggers).to.deep.equal({ version: "1", deploymentConfig: "CodeDeployDefault.LambdaCanary10Percent5Minutes" });
      expect(invocation.dependencies).to.include.members([group.urn, one(resources, TYPES.rolePolicy, "api-deploy-policy").urn, one(resources, TYPES.function, "api-before-traffic").urn]);
      expect(evaluation.outputs.deployment).to.deep.equal({ status: "Skipped" });
    });
  });

  it("creates the alias without provisioned concurrency, and a custom config named from its content for another strategy", async () => {
    const { resources } = await recordDeployed({ deployment: { strategy: "linear", percentage: 25, intervalMinutes: 2, afterTraffic: CJS_CHECK } });
    expect(one(resources, TYPES.alias).inputs.functionVersion).to.equal("1");
    expect(ofType(resources, TYPES.provisioned)).to.deep.equal([]);
    const config = one(resources, T.config, "api-deployment-config");
    expect(config.inputs).to.deep.equal({
      deploymentConfigName: "shop-dev-api-linear-25pct-2min",
      computePlatform: "Lambda",
      trafficRoutingConfig: { type: "TimeBasedLinear", timeBasedLinear: { percentage: 25, interval: 2 } },
    });
    expect(one(resources, T.group).inputs.deploymentConfigName).to.equal("shop-dev-api-linear-25pct-2min");
    const request = JSON.parse(one(resources, T.invocation).inputs.input);
    expect(request).not.to.have.property("beforeTrafficHook");
    expect(request.afterTrafficHook, "a CommonJS check is bundled too").to.equal(physical("api-after-traffic"));
    expect(one(resources, TYPES.function, "api-after-traffic").inputs.environment.variables[HOOK_ENVIRONMENT.lifecycleEvent]).to.equal("AfterAllowTraffic");
  });

  it("keeps today's alias-level provisioned concurrency and no CodeDeploy without a deployment", async () => {
    const { resources } = await recordComponent(() => new SecureFunction("api", { handler: HELLO, provisionedConcurrency: 1 }), (c) => ({ arn: c.arn }));
    expect(one(resources, TYPES.provisioned).inputs.qualifier).to.equal("live");
    expect(resources.filter((r) => r.type.startsWith("aws:codedeploy") || r.type === T.invocation)).to.deep.equal([]);
  });

  it("uses CodeDeploy's predefined configs where one matches", () => {
    expect(predefinedConfig({ strategy: "allAtOnce" })).to.equal("CodeDeployDefault.LambdaAllAtOnce");
    expect(predefinedConfig({ strategy: "canary", percentage: 10, minutes: 30 })).to.equal("CodeDeployDefault.LambdaCanary10Percent30Minutes");
    expect(predefinedConfig({ strategy: "linear", percentage: 10, intervalMinutes: 1 })).to.equal("CodeDeployDefault.LambdaLinear10PercentEvery1Minute");
    expect(predefinedConfig({ strategy: "canary", percentage: 10, minutes: 6 })).to.equal(undefined);
  });

  it("counts what a waited-for deployment may take: shifting, each hook, the overhead", () => {
    expect(deploymentSeconds({ strategy: "allAtOnce" })).to.equal(60);
    expect(deploymentSeconds({ strategy: "canary", percentage: 10, minutes: 5, beforeTraffic: CHECK })).to.equal(300 + 60 + 60);
    expect(deploymentSeconds({ strategy: "linear", percentage: 10, intervalMinutes: 1, beforeTraffic: CHECK, afterTraffic: CHECK })).to.equal(600 + 120 + 60);
    expect(deploymentSeconds({ strategy: "linear", percentage: 30, intervalMinutes: 2 })).to.equal(4 * 120 + 60);
  });

  describe("validation", () => {
    it("refuses an unknown strategy and stray fields", () => refuse({ strategy: "blueGreen", speed: 3 }, [
      ["deployment.strategy", /"blueGreen" is not allowed; use one of "allAtOnce", "canary", "linear"/],
      ["deployment.speed", /is not a deployment setting; use strategy, beforeTraffic/],
    ]));

    it("refuses a deployment without a strategy, or one that is not an object, naming the fix", async () => {
      await refuse({ beforeTraffic: CHECK }, [["deployment.strategy", /is required; use one of "allAtOnce", "canary", "linear", e.g. \{ strategy: "allAtOnce" \}/]]);
      await refuse("canary", [["deployment", /"canary" is not a deployment; write e.g. \{ strategy: "canary", percentage: 10, minutes: 5 \}/]]);
      await refuse(["canary"], [["deployment", /\["canary"\] is not a deployment/]]);
    });

    it("refuses missing and stray step fields per strategy", () => refuse({ strategy: "canary", intervalMinutes: 3 }, [
      ["deployment.percentage", /is required by strategy "canary"; set it, e.g. percentage: 10, minutes: 5/],
      ["deployment.minutes", /is required by strategy "canary"/],
      ["deployment.intervalMinutes", /does not apply to strategy "canary", which takes percentage and minutes; remove it/],
    ]));

    it("refuses steps on allAtOnce and values outside CodeDeploy's ranges", async () => {
      await refuse({ strategy: "allAtOnce", percentage: 10 }, [["deployment.percentage", /does not apply to strategy "allAtOnce"; remove it/]]);
      await refuse({ strategy: "linear", percentage: 100, intervalMinutes: 2.5 }, [
        ["deployment.percentage", /100 percent is outside 1-99 percent/],
        ["deployment.intervalMinutes", /2.5 minutes is not a whole number; use a whole number from 1 to 2880 minutes/],
      ]);
    });

    it("refuses a deployment of a disabled function, bad alarms, and too many of them", () => refuse(
      { strategy: "allAtOnce", alarms: ["", "a", "b", "c", "d", "e", "f"] },
      [
        ["deployment", /is set with disabled: true; a switched-off function has no traffic to shift/],
        ["deployment.alarms", /has 7 alarms; a deployment group watches 10, 4 of them the function's own, so give at most 6/],
        ["deployment.alarms[0]", /"" is not an alarm name/],
      ],
      { disabled: true },
    ));

    it("refuses hooks that do not parse, do not exist or do not export the check", () => refuse(
      { strategy: "allAtOnce", beforeTraffic: "nodot", afterTraffic: "test/fixtures/deploy-check.missing" },
      [
        ["deployment.beforeTraffic", /"nodot" is not "path\/to\/file.exportName"/],
        ["deployment.afterTraffic", /does not export "missing" \(it exports check\)/],
      ],
    ));

    it("times a waited-for deployment against the runner's own budget: its timeout less the margin it stops at", async () => {
      expect(WAIT_BUDGET_SECONDS * 1000).to.equal(RUNNER_TIMEOUT_SECONDS * 1000 - STOP_MARGIN_MS);
      // 14 minutes of canary and the overhead: 900 s, the runner's whole timeout, more than it waits.
      await refuse({ strategy: "canary", percentage: 10, minutes: 14 }, [["deployment.waitForCompletion", /may take 900 s .*above the 885 s a waiting runner has/]]);
      expect(deploymentSeconds({ strategy: "canary", percentage: 10, minutes: 13 })).to.be.at.most(WAIT_BUDGET_SECONDS);
      await recordDeployed({ deployment: { strategy: "canary", percentage: 10, minutes: 13 } });
    });

    it("refuses waiting for a strategy the runner cannot outlast, naming waitForCompletion: false", async () => {
      await refuse({ strategy: "canary", percentage: 10, minutes: 15 }, [
        ["deployment.waitForCompletion", /may take 960 s \(900 s of shifting, 60 s per hook, 60 s to start and watch it\), above the 885 s a waiting runner has \(its 900 s less 15 s to stop it with rollback\); set waitForCompletion: false/],
      ]);
      const { resources } = await recordDeployed({ deployment: { strategy: "canary", percentage: 10, minutes: 15, waitForCompletion: false } });
      expect(JSON.parse(one(resources, T.invocation).inputs.input).waitForCompletion).to.equal(false);
    });
  });

  describe("the hook bundle", () => {
    // A stand-in wrapper that calls the check with a target, so the wiring itself is proven.
    const projectFiles = (root: string) => {
      fs.writeFileSync(path.join(root, "wrap.mjs"), "export const wrap = (check) => async (event) => { await check({ version: event.version }); return globalThis.checked; };\n");
      return { file: path.join(root, "wrap.mjs"), exportName: "wrap" };
    };

    it("builds esbuild options that import the user's module and the wrapper by absolute path", () => {
      const options = wrappedEntryOptions("/repo/hooks/check.ts", "check", { file: "/lib/hook.js", exportName: "deploymentHookHandler" }, "/repo", BUNDLING_DEFAULTS);
      expect(options).not.to.have.property("entryPoints");
      expect(options.stdin).to.deep.equal({
        contents: 'import * as user from "/repo/hooks/check.ts";\nimport { deploymentHookHandler as wrap } from "/lib/hook.js";\nconst wrapped = wrap(user["check"]);\nexport { wrapped as check };',
        resolveDir: "/repo",
        loader: "js",
      });
      expect(options).to.include({ format: "esm", platform: "node", bundle: true, minify: true });
    });

    for (const [kind, handler, exportName, expected] of [
      ["an ES module", "test/fixtures/deploy-check.ts", "check", "v7"],
      ["a CommonJS module", "test/fixtures/deploy-check.cjs", "check", "cjs:v7"],
      ["an ES module's default export", "test/fixtures/deploy-check-default.ts", "default", "default:v7"],
    ] as const) {
      it(`calls the user's check from ${kind} through the wrapper`, async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "hook-wrapper-"));
        try {
          const bundle = bundleHandler(path.join(ROOT, handler), exportName, ROOT, BUNDLING_DEFAULTS, projectFiles(root));
          const loaded = await loadBundle(bundle.files);
          expect(await loaded[exportName]({ version: "v7" })).to.equal(expected);
        } finally {
          fs.rmSync(root, { recursive: true, force: true });
        }
      });
    }

    it("loads with the real hook runtime and exports the wrapped check as a handler", async () => {
      // Running it against CodeDeploy and Lambda stand-ins end to end: test/deployment/bundled.test.ts.
      const bundle = bundleHandler(path.join(ROOT, "test/fixtures/deploy-check.cjs"), "check", ROOT, BUNDLING_DEFAULTS, hookWrapper());
      const loaded = await loadBundle(bundle.files);
      expect(loaded.check).to.be.a("function");
    });

    it("names a runner handler that exists", () => {
      expect(runnerHandler()).to.match(/components\/deployment-runtime\/runner\.handler$/);
    });
  });
});
