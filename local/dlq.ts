/**
 * Dead-letter queues from the command line, through the real SQS client against the local
 * endpoint: list what waits in each DLQ, and redrive it to its source queue with the
 * message-move task (StartMessageMoveTask), as the SQS console's "Start DLQ redrive" does.
 */
import { GetQueueAttributesCommand, ListMessageMoveTasksCommand, ReceiveMessageCommand, SQSClient, StartMessageMoveTaskCommand } from "@aws-sdk/client-sqs";

export interface QueueInfo {
  name: string;
  url: string;
  arn: string;
  /** The DLQ's ARN, for a queue with a redrive policy. */
  deadLetterTargetArn?: string;
  /** The asynchronous sources (invoke configs, rule targets, schedules) whose failures this queue receives. */
  asyncSources?: string[];
  /** The stream mappings (`<stream> -> <function>`) whose on-failure destination this queue is. */
  streamSources?: string[];
}

export interface DeadLetter {
  messageId: string;
  body: string;
  sentAt: string;
  sourceArn?: string;
}

/** The queues that are a DLQ: of a queue (its redrive policy), an asynchronous source or a stream mapping; `sources` are the queues. */
export function deadLetterQueues(queues: QueueInfo[]): Array<QueueInfo & { sources: string[] }> {
  return queues
    .filter((q) => queues.some((source) => source.deadLetterTargetArn === q.arn) || (q.asyncSources ?? []).length > 0 || (q.streamSources ?? []).length > 0)
    .map((q) => ({ ...q, sources: queues.filter((s) => s.deadLetterTargetArn === q.arn).map((s) => s.name) }));
}

/** The messages waiting in a DLQ (received with a 1 s visibility timeout, so they stay). */
export async function peekDeadLetters(client: SQSClient, queueUrl: string, limit = 100): Promise<DeadLetter[]> {
  const seen = new Map<string, DeadLetter>();
  while (seen.size < limit) {
    const { Messages = [] } = await client.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 1, WaitTimeSeconds: 0, MessageSystemAttributeNames: ["All"],
    }));
    const fresh = Messages.filter((m) => !seen.has(m.MessageId!));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      seen.set(m.MessageId!, {
        messageId: m.MessageId!,
        body: m.Body ?? "",
        sentAt: new Date(Number(m.Attributes?.SentTimestamp)).toISOString(),
        sourceArn: m.Attributes?.DeadLetterQueueSourceArn,
      });
    }
  }
  return [...seen.values()];
}

export async function countMessages(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
  return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Moves every message of the DLQ back to the queue it came from; returns how many moved. */
export async function redrive(client: SQSClient, deadLetterQueueArn: string): Promise<number> {
  const { TaskHandle } = await client.send(new StartMessageMoveTaskCommand({ SourceArn: deadLetterQueueArn }));
  const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: deadLetterQueueArn, MaxResults: 10 }));
  return Results.find((task) => task.TaskHandle === TaskHandle)?.ApproximateNumberOfMessagesMoved ?? 0;
}
