// Placeholder: the deploy-runtime branch writes the hook; only its signature matters here.
import type { DeploymentCheck } from "./contract";

export function deploymentHookHandler(check: DeploymentCheck): (event: { DeploymentId: string; LifecycleEventHookExecutionId: string }) => Promise<void> {
  if (typeof check !== "function") throw new Error("the deployment check is not a function");
  return async () => {
    throw new Error("not implemented");
  };
}
