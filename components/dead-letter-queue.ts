import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { createAlarm } from "./alarms";
import { queueEncryption } from "./kms";
import { NAME_LIMITS, physicalName } from "./naming";
import { QueueSender, tlsOnlyQueuePolicy } from "./policy";

/** SQS's longest retention: a dead-letter queue keeps messages this long, longer than any source. */
export const MAX_RETENTION_SECONDS = 14 * 24 * 3600;

/** A dead-letter queue with what every one of ours has: encryption, TLS only, 14 days, an alarm. */
export interface DeadLetterQueue {
  queue: aws.sqs.Queue;
  /** Denies every request that does not use TLS. */
  policy: aws.sqs.QueuePolicy;
  /** Fires while any message waits in the queue. */
  alarm: aws.cloudwatch.MetricAlarm;
}

export interface DeadLetterQueueOptions {
  /** A FIFO queue, for a FIFO source. */
  fifo?: boolean;
  /** What the alarm says has happened, e.g. "messages failed 5 times". */
  failure: string;
  alarmActions: pulumi.Input<pulumi.Input<string>[]>;
  /** Services that send dead letters themselves (EventBridge rules), not through a role. */
  senders?: QueueSender[];
  /** The customer-managed key (checked) that encrypts the queue; SSE-SQS without one. */
  kmsKeyArn?: pulumi.Input<string>;
}

/** The TLS-only policy of a queue, named `<name>-tls-only`, with the `senders` it allows. */
export function createTlsOnlyPolicy(name: string, queue: aws.sqs.Queue, parent: pulumi.Resource, senders: QueueSender[] = []): aws.sqs.QueuePolicy {
  return new aws.sqs.QueuePolicy(`${name}-tls-only`, { queueUrl: queue.url, policy: tlsOnlyQueuePolicy(queue.arn, senders) }, { parent });
}

/**
 * The dead-letter queue of the component `owner`: `<owner>-dlq` with its TLS-only policy and
 * its `<owner>-dead-letters` alarm, children of `parent`.
 */
export function createDeadLetterQueue(owner: string, options: DeadLetterQueueOptions, parent: pulumi.Resource): DeadLetterQueue {
  const queue = new aws.sqs.Queue(`${owner}-dlq`, {
    name: physicalName(`${owner}-dlq`, NAME_LIMITS.sqsQueue, options.fifo ? ".fifo" : ""),
    fifoQueue: options.fifo || undefined,
    messageRetentionSeconds: MAX_RETENTION_SECONDS,
    ...queueEncryption(options.kmsKeyArn),
  }, { parent });
  const policy = createTlsOnlyPolicy(`${owner}-dlq`, queue, parent, options.senders);
  const alarm = createAlarm(`${owner}-dead-letters`, {
    description: `${owner}: ${options.failure} and wait in the dead-letter queue.`,
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: queue.name },
    statistic: "Maximum", period: 60, evaluationPeriods: 1, threshold: 1,
  }, options.alarmActions, parent);
  return { queue, policy, alarm };
}
