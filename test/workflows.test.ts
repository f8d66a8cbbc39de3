import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load as parse } from "js-yaml";
import { validateWorkflow } from "@action-validator/core";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const FILES = ["deploy.yml", "pull-request.yml"];
const read = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
const stepsUsing = (job: any, action: string) => job.steps.filter((s: any) => String(s.uses ?? "").startsWith(`${action}@`));
const jobsOf = (file: string) => Object.entries<any>((parse(read(file)) as any).jobs);
const holdsCredentials = (job: any) => job.permissions?.["id-token"] === "write";

/**
 * The environment each Pulumi command on each stack runs in: its credentials trust that environment's OIDC subject
 * and reach that stack alone, and prod's two have required reviewers (docs/deploying.md#who-may-touch-which-stack).
 */
const ENVIRONMENTS: Record<string, Record<string, string>> = {
  preview: { dev: "preview-dev", prod: "preview-prod" },
  up: { dev: "development", prod: "production" },
};
/** What a Pulumi command may ask for: previews a team that may read its stack, deploys one that may write it. */
const TEAM_SCOPES: Record<string, string> = {
  preview: "team:${{ vars.PULUMI_PREVIEW_TEAM }}",
  up: "team:${{ vars.PULUMI_DEPLOY_TEAM }}",
};

/** One entry per run of the job (per matrix combination), with `${{ matrix.* }}` resolved as GitHub would. */
function runsOf(job: any): Array<(text: string) => string> {
  const combinations = Object.entries<any[]>(job.strategy?.matrix ?? {}).reduce<Array<Record<string, string>>>(
    (all, [key, values]) => all.flatMap((partial) => values.map((value) => ({ ...partial, [key]: String(value) }))),
    [{}],
  );
  return combinations.map((matrix) => (text: string) =>
    text.replace(/\$\{\{ matrix\.(\w+) \}\}/g, (_, key: string) => matrix[key] ?? expect.fail(`no matrix.${key}`)));
}

describe("GitHub Actions workflows", () => {
  it("validate against the workflow schema (action-validator)", () => {
    const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
    expect(files).to.deep.equal(FILES);
    for (const file of files) expect(validateWorkflow(read(file)).errors, file).to.deep.equal([]);
  });

  it("the validator does catch a broken workflow", () => {
    expect(validateWorkflow("on: push\njobs:\n  build:\n    steps: []\n").errors).not.to.deep.equal([]);
  });

  it("pull requests: test, then preview each stack with the policy pack and post the plan and the preview", () => {
    const workflow = parse(read("pull-request.yml")) as any;
    expect(Object.keys(workflow.on)).to.deep.equal(["pull_request"]);
    const { test, preview } = workflow.jobs;
    expect(test.steps.map((s: any) => s.run).filter(Boolean)).to.deep.equal(["bash .ci/run"]);
    expect(preview.needs).to.equal("test");
    expect(preview.strategy.matrix.stack).to.deep.equal(["dev", "prod"]);
    expect(preview.permissions).to.deep.equal({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(preview.steps.map((s: any) => s.run).filter(Boolean)).to.include.members(["npm ci --ignore-scripts --prefix policy", "npm run -s plan -- ${{ matrix.stack }} --markdown > plan.md", "npm run -s cost -- ${{ matrix.stack }} --markdown > cost.md"]);
    const [pulumi] = stepsUsing(preview, "pulumi/actions");
    expect(pulumi.with).to.include({ command: "preview", policyPacks: "policy", policyPackConfigs: "policy/config.json" });
    expect(pulumi.with["stack-name"]).to.include("${{ matrix.stack }}");
    const [comment] = stepsUsing(preview, "actions/github-script");
    expect(comment.if).to.equal("always()");
    expect(comment.with.script).to.include("plan.md").and.include("cost.md").and.include("PREVIEW");
  });

  it("pull requests: the comment says when the plan failed, and stays under GitHub's 65536-character limit", async () => {
    const workflow = parse(read("pull-request.yml")) as any;
    const [comment] = stepsUsing(workflow.jobs.preview, "actions/github-script");
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = AsyncFunction("require", "process", "context", "github", comment.with.script);
    const post = async (planText: string, preview: string, costText = "cost table"): Promise<string> => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-comment-"));
      fs.writeFileSync(path.join(dir, "plan.md"), planText);
      fs.writeFileSync(path.join(dir, "cost.md"), costText);
      let body = "";
      const github = { paginate: async () => [], rest: { issues: { listComments: {}, createComment: async (args: any) => { body = args.body; }, updateComment: async () => expect.fail("no comment to update") } } };
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        await run(require, { env: { STACK: "dev", PREVIEW: preview, PREVIEW_OUTCOME: "success" } }, { repo: { owner: "o", repo: "r" }, issue: { number: 1 } }, github);
      } finally {
        process.chdir(cwd);
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return body;
    };
    // The shell creates plan.md before the plan runs, so a failed plan leaves it empty.
    expect(await post("", "preview text")).to.include("_The offline plan failed; see the job log._").and.include("preview text").and.include("cost table");
    expect(await post("plan", "preview text", "")).to.include("_The cost estimate failed; see the job log._");
    const long = await post("p".repeat(16000), "x".repeat(70000), "c".repeat(8000));
    expect(long.length).to.be.at.most(65536);
    expect(long).to.include("p".repeat(16000)).and.include("c".repeat(8000));
  });

  it("main: up dev, then prod behind the approval-gated production environment", () => {
    const workflow = parse(read("deploy.yml")) as any;
    expect(workflow.on).to.deep.equal({ push: { branches: ["main"] } });
    const { "up-dev": dev, "up-prod": prod } = workflow.jobs;
    expect(dev.needs).to.equal("test");
    expect(prod.needs).to.equal("up-dev");
    expect(prod.environment).to.equal("production");
    expect(workflow.concurrency["cancel-in-progress"]).to.equal(false);
    for (const [job, stack] of [[dev, "dev"], [prod, "prod"]]) {
      const [up] = stepsUsing(job, "pulumi/actions");
      expect(up.with).to.include({ command: "up", policyPacks: "policy", policyPackConfigs: "policy/config.json" });
      expect(up.with["stack-name"]).to.match(new RegExp(`/${stack}$`));
    }
  });

  it("main: after each up (also a failed one), the follower shows the deployments of that stack's applications", () => {
    const project = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
    const workflow = parse(read("deploy.yml")) as any;
    for (const [name, stack] of [["up-dev", "dev"], ["up-prod", "prod"]]) {
      const steps: any[] = workflow.jobs[name].steps;
      const up = steps.findIndex((s) => String(s.uses ?? "").startsWith("pulumi/actions@"));
      const follow = steps.findIndex((s) => String(s.run ?? "").includes("npm run -s deployments -- follow"));
      expect(follow, name).to.be.above(up);
      // The components name applications <project>-<stack>-...
      expect(steps[follow].run, name).to.equal(`npm run -s deployments -- follow --prefix ${project}-${stack}- --since 60`);
      expect(steps[follow].if, name).to.equal("success() || failure()");
    }
  });

  it("pins every action to a full commit SHA, its version in a comment, one pin per action", () => {
    const pins = new Map<string, string>();
    for (const file of FILES) {
      const lines = read(file).split("\n").filter((line) => /^\s*(- )?uses:/.test(line));
      // Every step's `uses` is on one of these lines, or a step could hide from the check.
      const steps = jobsOf(file).flatMap(([, job]) => job.steps.filter((s: any) => s.uses));
      expect(lines, file).to.have.length(steps.length).and.not.be.empty;
      for (const line of lines) {
        const pin = /^\s*(?:- )?uses: ([\w.-]+\/[\w.\/-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/.exec(line);
        expect(pin, `${file}: ${line.trim()} (want owner/repo@<40-hex commit> # vX.Y.Z)`).not.to.equal(null);
        const [, action, sha, version] = pin!;
        expect(pins.get(action) ?? `${sha} ${version}`, `${file}: ${action} pinned differently elsewhere`).to.equal(`${sha} ${version}`);
        pins.set(action, `${sha} ${version}`);
      }
    }
  });

  it("no organization or personal Pulumi token: previews a team that may read, deploys a team that may write, per stack", () => {
    for (const file of FILES) {
      expect(read(file), file).not.to.match(/access_token:(organization|personal)/);
      for (const [name, job] of jobsOf(file)) {
        const auth = stepsUsing(job, "pulumi/auth-actions");
        if (auth.length === 0) continue;
        const [pulumi] = stepsUsing(job, "pulumi/actions");
        expect(pulumi, `${file} ${name} exchanges a token, so it runs Pulumi`).not.to.equal(undefined);
        expect(auth[0].with, `${file} ${name}`).to.deep.include({
          "requested-token-type": "urn:pulumi:token-type:access_token:team",
          scope: TEAM_SCOPES[pulumi.with.command],
        });
      }
    }
  });

  it("credentials come only with a stack's environment, and prod's only with a reviewer-gated one", () => {
    const seen: string[] = [];
    for (const file of FILES) {
      for (const [name, job] of jobsOf(file)) {
        const [pulumi] = stepsUsing(job, "pulumi/actions");
        // The OIDC subject names the environment; a job with id-token but none would get a branch's subject.
        expect(holdsCredentials(job), `${file} ${name}: id-token only where Pulumi runs`).to.equal(pulumi !== undefined);
        if (!pulumi) continue;
        for (const resolve of runsOf(job)) {
          const stack = resolve(pulumi.with["stack-name"]).split("/").pop()!;
          expect(resolve(String(job.environment?.name ?? job.environment ?? "")), `${file} ${name} (${stack})`).to.equal(ENVIRONMENTS[pulumi.with.command]?.[stack]);
          seen.push(`${pulumi.with.command} ${stack}`);
        }
      }
    }
    expect(seen.sort()).to.deep.equal(["preview dev", "preview prod", "up dev", "up prod"]);
  });

  it("branch code cannot write state: pull requests only preview, forks skip it, nothing runs with the base branch's privileges", () => {
    const workflow = parse(read("pull-request.yml")) as any;
    for (const [name, job] of jobsOf("pull-request.yml")) {
      for (const step of stepsUsing(job, "pulumi/actions")) expect(step.with.command, name).to.equal("preview");
    }
    expect(workflow.jobs.preview.if).to.equal("github.event.pull_request.head.repo.full_name == github.repository");
    for (const file of FILES) {
      // pull_request_target and workflow_run run a branch's changes with the base repository's secrets.
      const triggers = Object.keys((parse(read(file)) as any).on);
      for (const privileged of ["pull_request_target", "workflow_run"]) expect(triggers, file).not.to.include(privileged);
    }
  });

  it("where credentials are, installs run no install scripts and checkouts leave no Git token", () => {
    for (const file of FILES) {
      for (const [name, job] of jobsOf(file)) {
        for (const checkout of stepsUsing(job, "actions/checkout")) expect(checkout.with?.["persist-credentials"], `${file} ${name}`).to.equal(false);
        if (!holdsCredentials(job)) continue;
        const installs = job.steps.map((s: any) => String(s.run ?? "")).filter((run: string) => /\bnpm (ci|install|i)\b/.test(run));
        expect(installs, `${file} ${name}`).not.to.be.empty;
        for (const install of installs) expect(install, `${file} ${name}`).to.include("--ignore-scripts");
      }
    }
  });

  it("every dependency with an install script is one the credentialed jobs do without", () => {
    // Each needs its script only outside `pulumi preview`/`up`, or not at all: a new entry needs the same check.
    const withoutScripts: Record<string, string> = {
      esbuild: "the binary comes from its @esbuild/<platform> package; the script only checks it and links it for speed",
      "@pulumi/docker-build": "installs a provider plugin, which the Pulumi CLI fetches itself when a program needs it",
      "docker-classic": "the same, for @pulumi/awsx's alias of @pulumi/docker 3",
      protobufjs: "only warns about its dependents' version ranges",
      "classic-level": "dynalite's store, for the tests and the local runtime only",
      leveldown: "the same",
      puppeteer: "downloads a browser for the diagram render test only",
    };
    for (const lock of ["package-lock.json", path.join("policy", "package-lock.json")]) {
      const { packages } = JSON.parse(fs.readFileSync(path.join(ROOT, lock), "utf8"));
      const scripted = Object.entries<any>(packages).filter(([, p]) => p.hasInstallScript).map(([key]) => key.replace(/^.*node_modules\//, ""));
      expect(Object.keys(withoutScripts), lock).to.include.members(scripted);
    }
  });

  it("takes credentials only through OIDC: role assumption for AWS, token exchange for Pulumi; no long-lived keys", () => {
    for (const file of ["pull-request.yml", "deploy.yml"]) {
      const text = read(file);
      expect(text, file).not.to.match(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|PULUMI_ACCESS_TOKEN|secrets\./);
      for (const [name, job] of Object.entries<any>((parse(text) as any).jobs)) {
        const aws = stepsUsing(job, "aws-actions/configure-aws-credentials");
        // A job that runs Pulumi must get its credentials here, or the checks below would be skipped for it.
        if (stepsUsing(job, "pulumi/actions").length > 0) expect(aws, `${file} ${name} runs Pulumi`).to.have.length(1);
        if (aws.length === 0) continue;
        expect(job.permissions["id-token"], `${file} ${name}`).to.equal("write");
        expect(aws[0].with["role-to-assume"], `${file} ${name}`).to.match(/^\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}$/);
        expect(stepsUsing(job, "pulumi/auth-actions"), `${file} ${name}`).to.have.length(1);
      }
    }
  });
});
