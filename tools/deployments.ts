/**
 * Follows CodeDeploy deployments of Lambda functions and prints their progress: status, the
 * lifecycle hooks, the traffic on the new version, and on a rollback the reason (the alarm
 * that fired, or the hook that failed). Exits non-zero when one did not succeed.
 *
 *   npm run deployments -- follow <deployment id...>
 *   npm run deployments -- follow --prefix <application name prefix> [--since <minutes>]
 *
 * With --prefix it follows the deployments created in the last `--since` minutes (default
 * 60) in every application whose name starts with the prefix (the components name them
 * `<project>-<stack>-...`), so after `pulumi up` it shows what that up deployed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  CodeDeployClient,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListApplicationsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
} from "@aws-sdk/client-codedeploy";

const USAGE = `usage:
  npm run deployments -- follow <deployment id...> [--interval <seconds>]
  npm run deployments -- follow --prefix <application name prefix> [--since <minutes>] [--interval <seconds>]`;

const ENDED = ["Succeeded", "Failed", "Stopped"];

interface Seen {
  status?: string;
  events: Map<string, string>;
  percent?: number;
  ended: boolean;
}

/** Follows `ids` until each has ended, printing each change once; true when all succeeded. */
export async function followDeployments(client: CodeDeployClient, ids: string[], print: (line: string) => void, intervalMs = 5_000): Promise<boolean> {
  const seen = new Map<string, Seen>(ids.map((id) => [id, { events: new Map(), ended: false }]));
  let succeeded = true;
  for (;;) {
    for (const [id, state] of seen) {
      if (state.ended) continue;
      const { deploymentInfo: info = {} } = await client.send(new GetDeploymentCommand({ deploymentId: id }));
      const label = `${id} ${info.applicationName}/${info.deploymentGroupName}`;
      const { targetIds = [] } = await client.send(new ListDeploymentTargetsCommand({ deploymentId: id }));
      for (const targetId of targetIds) {
        const { deploymentTarget } = await client.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId }));
        const target = deploymentTarget?.lambdaTarget;
        for (const event of target?.lifecycleEvents ?? []) {
          if (event.status === "Pending" || state.events.get(event.lifecycleEventName!) === event.status) continue;
          state.events.set(event.lifecycleEventName!, event.status!);
          print(`${label}: ${event.lifecycleEventName} ${event.status}${event.diagnostics?.message ? ` (${event.diagnostics.message})` : ""}`);
        }
        const fn = target?.lambdaFunctionInfo;
        const percent = Math.round((fn?.targetVersionWeight ?? 0) * 1000) / 10;
        if (fn && percent !== state.percent && (state.percent !== undefined || percent > 0)) {
          print(`${label}: ${percent}% of ${fn.functionName}:${fn.functionAlias} traffic on version ${fn.targetVersion} (from ${fn.currentVersion})`);
        }
        state.percent = percent;
      }
      if (info.status !== state.status) print(`${label}: ${info.status}`);
      state.status = info.status;
      if (!ENDED.includes(info.status ?? "")) continue;
      state.ended = true;
      if (info.status === "Succeeded") continue;
      succeeded = false;
      const { code, message } = info.errorInformation ?? {};
      print(`${label}: ${code ?? "no error code"}: ${message ?? "no reason given"}`);
      if (info.rollbackInfo?.rollbackMessage) print(`${label}: ${info.rollbackInfo.rollbackMessage}`);
    }
    if ([...seen.values()].every((state) => state.ended)) return succeeded;
    await sleep(intervalMs);
  }
}

/** The deployments created in the last `sinceMinutes` in the applications whose names start with `prefix`, oldest first. */
export async function findDeployments(client: CodeDeployClient, prefix: string, sinceMinutes: number): Promise<string[]> {
  const applications: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListApplicationsCommand({ nextToken }));
    applications.push(...(page.applications ?? []).filter((name) => name.startsWith(prefix)));
    nextToken = page.nextToken;
  } while (nextToken);
  const ids: string[] = [];
  const start = new Date(Date.now() - sinceMinutes * 60_000);
  for (const applicationName of applications) {
    const { deploymentGroups = [] } = await client.send(new ListDeploymentGroupsCommand({ applicationName }));
    for (const deploymentGroupName of deploymentGroups) {
      const { deployments = [] } = await client.send(new ListDeploymentsCommand({ applicationName, deploymentGroupName, createTimeRange: { start } }));
      ids.push(...deployments.reverse());
    }
  }
  return ids;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value\n${USAGE}`);
  args.splice(at, 2);
  return value;
}

function positiveNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!(number > 0)) throw new Error(`${name} must be a positive number; got ${value}`);
  return number;
}

export interface FollowCommand {
  /** Deployment ids, or none with `prefix`. */
  ids: string[];
  prefix?: string;
  sinceMinutes: number;
  intervalMs: number;
}

/** Reads `follow <id...>` or `follow --prefix <prefix> [--since <minutes>]`, with `[--interval <seconds>]`; throws with the usage on anything else. */
export function parseFollowArguments(argv: string[]): FollowCommand {
  const args = [...argv];
  if (args.shift() !== "follow") throw new Error(`the only command is follow\n${USAGE}`);
  const prefix = option(args, "--prefix");
  const sinceMinutes = positiveNumber(option(args, "--since"), "--since", 60);
  const intervalMs = positiveNumber(option(args, "--interval"), "--interval", 5) * 1000;
  if (args.some((arg) => arg.startsWith("--"))) throw new Error(`unknown option ${args.find((arg) => arg.startsWith("--"))}\n${USAGE}`);
  if (prefix === undefined && args.length === 0) throw new Error(`name the deployment ids to follow, or --prefix <application name prefix>\n${USAGE}`);
  if (prefix !== undefined && args.length > 0) throw new Error(`name deployment ids or --prefix, not both\n${USAGE}`);
  return { ids: args, prefix, sinceMinutes, intervalMs };
}

/** The command line; resolves to the exit code (1: a deployment failed or was stopped, 2: bad arguments). */
export async function main(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  let command: FollowCommand;
  try {
    command = parseFollowArguments(argv);
  } catch (error) {
    print((error as Error).message);
    return 2;
  }
  const client = new CodeDeployClient({});
  try {
    // The SDK's own "Region is missing" names neither the command nor the fix.
    if (!(await client.config.region().catch(() => undefined))) {
      print("No AWS region: set AWS_REGION (or AWS_PROFILE, for a profile with a region), as for the aws CLI.");
      return 2;
    }
    const ids = command.prefix === undefined ? command.ids : await findDeployments(client, command.prefix, command.sinceMinutes);
    if (ids.length === 0) {
      print(`No deployments in applications named ${command.prefix}* in the last ${command.sinceMinutes} minutes.`);
      return 0;
    }
    return (await followDeployments(client, ids, print, command.intervalMs)) ? 0 : 1;
  } finally {
    client.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: Error) => {
      console.error(`deployments failed: ${error.message}`);
      process.exitCode = 1;
    },
  );
}
