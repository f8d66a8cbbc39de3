import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

/**
 * One Logger and one Metrics per function, created at cold start. Both read their settings
 * from the standard Powertools variables: POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL,
 * POWERTOOLS_METRICS_NAMESPACE.
 */
export const logger = new Logger();
export const metrics = new Metrics();

/**
 * Flush the metrics stored during this invocation (EMF to stdout). Skipped when nothing was
 * recorded, so a request that emits no metric does not log Powertools' "no metrics" warning.
 */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
