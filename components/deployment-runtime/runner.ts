// Placeholder: the deploy-runtime branch writes the runner; only its signature matters here.
import type { DeploymentRequest, DeploymentResult } from "./contract";

export async function handler(_event: DeploymentRequest): Promise<DeploymentResult> {
  throw new Error("not implemented");
}
