import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { NAME_LIMITS, physicalName } from "./naming";
import { withoutUndefined } from "./validation";

/** What one of our alarms watches and when it fires. */
export interface AlarmSpec {
  /** What has happened when the alarm fires, for the person it notifies. */
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  /** `Sum`, `Maximum`, ...; or `extendedStatistic` for a percentile. */
  statistic?: string;
  extendedStatistic?: string;
  /** Seconds per datapoint. */
  period: number;
  evaluationPeriods: number;
  /** The alarm fires at this value or above, in the metric's unit. */
  threshold: number;
}

/**
 * An alarm named `name` (physically `<project>-<stack>-<name>`), child of `parent`. Every
 * alarm of the library fires at or above its threshold, treats missing data as nothing
 * wrong (an idle function or an empty queue is healthy), and notifies `actions` both when
 * it fires and when it recovers.
 */
export function createAlarm(name: string, spec: AlarmSpec, actions: pulumi.Input<pulumi.Input<string>[]>, parent: pulumi.Resource): aws.cloudwatch.MetricAlarm {
  const { description, ...metric } = spec;
  return new aws.cloudwatch.MetricAlarm(name, {
    name: physicalName(name, NAME_LIMITS.alarm),
    alarmDescription: description,
    ...withoutUndefined(metric),
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
    alarmActions: actions,
    okActions: actions,
  }, { parent });
}
