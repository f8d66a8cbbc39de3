import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load as parse } from "js-yaml";
import { validateWorkflow } from "@action-validator/core";

const WORKFLOWS = path.resolve(__dirname, "..", ".github", "workflows");
const read = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
const stepsUsing = (job: any, action: string) => job.steps.filter((s: any) => String(s.uses ?? "").startsWith(`${action}@`));

describe("GitHub Actions workflows", () => {
  it("validate against the workflow schema (action-validator)", () => {
    const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
    expect(files).to.deep.equal(["deploy.yml", "pull-request.yml"]);
    for (const file of files) expect(validateWorkflow(read(file)).errors, file).to.deep.equal([]);
  });

  it("the validator does catch a broken workflow", () => {
    expect(validateWorkflow("on: push\njobs:\n  build:\n    steps: []\n").errors).not.to.deep.equal([]);
  });

  it("pull requests: test, then preview each stack with the policy pack and post the plan and the preview", () => {
    const workflow = parse(read("pull-request.yml")) as any;
    expect(Object.keys(workflow.on)).to.deep.equal(["pull_request"]);
    const { test, preview } = workflow.jobs;
    expect(test.steps.map((s: any) => s.run).filter(Boolean)).to.deep.equal(["npm ci", "npm run typecheck", "npm test"]);
    expect(preview.needs).to.equal("test");
    expect(preview.strategy.matrix.stack).to.deep.equal(["dev", "prod"]);
    expect(preview.permissions).to.deep.equal({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(preview.steps.map((s: any) => s.run).filter(Boolean)).to.include.members(["npm ci --prefix policy", "npm run -s plan -- ${{ matrix.stack }} --markdown > plan.md"]);
    const [pulumi] = stepsUsing(preview, "pulumi/actions");
    expect(pulumi.with).to.include({ command: "preview", policyPacks: "policy", policyPackConfigs: "policy/config.json" });
    expect(pulumi.with["stack-name"]).to.include("${{ matrix.stack }}");
    const [comment] = stepsUsing(preview, "actions/github-script");
    expect(comment.if).to.equal("always()");
    expect(comment.with.script).to.include("plan.md").and.include("PREVIEW");
  });

  it("pull requests: the comment says when the plan failed, and stays under GitHub's 65536-character limit", async () => {
    const workflow = parse(read("pull-request.yml")) as any;
    const [comment] = stepsUsing(workflow.jobs.preview, "actions/github-script");
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = AsyncFunction("require", "process", "context", "github", comment.with.script);
    const post = async (planText: string, preview: string): Promise<string> => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-comment-"));
      fs.writeFileSync(path.join(dir, "plan.md"), planText);
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
    expect(await post("", "preview text")).to.include("_The offline plan failed; see the job log._").and.include("preview text");
    const long = await post("p".repeat(16000), "x".repeat(70000));
    expect(long.length).to.be.at.most(65536);
    expect(long).to.include("p".repeat(16000));
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
