import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { DeploymentHookTarget } from "../../components/deployment-runtime/contract";
import { DEPLOYMENT_PROBE_ROUTE_KEY } from "../lib/http";

/** The probe: an HTTP API (payload 2.0) event that every API function's httpHandler answers 200 without credentials. */
export function probeEvent(requestId: string): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: DEPLOYMENT_PROBE_ROUTE_KEY,
    rawPath: "/health",
    rawQueryString: "",
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      accountId: "", apiId: "", domainName: "", domainPrefix: "", requestId, stage: "$default", time: "", timeEpoch: 0,
      routeKey: DEPLOYMENT_PROBE_ROUTE_KEY,
      http: { method: "GET", path: "/health", protocol: "HTTP/1.1", sourceIp: "", userAgent: "deployment-health-check" },
    },
  };
}

/**
 * The before-traffic check of the API functions: the new version must load and answer the
 * probe with 200, or the deployment fails and no caller ever reaches it.
 */
export const check = async (target: DeploymentHookTarget): Promise<void> => {
  const { payload, functionError } = await target.invoke(probeEvent(`deployment-${target.deploymentId}`));
  if (functionError) throw new Error(`version ${target.version} of ${target.functionName} failed the probe (${functionError}): ${JSON.stringify(payload)}`);
  const statusCode = (payload as { statusCode?: unknown } | null)?.statusCode;
  if (statusCode !== 200) throw new Error(`version ${target.version} of ${target.functionName} answered the probe with ${JSON.stringify(statusCode)}, not 200`);
};
