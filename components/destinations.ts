// Where Lambda may send the record of an asynchronous invocation, and what the function's
// role must be allowed to do for each kind of destination.

/** The destination services Lambda accepts, with the one action the role needs on each. */
export const DESTINATION_ACTIONS = {
  sqs: "sqs:SendMessage",
  sns: "sns:Publish",
  lambda: "lambda:InvokeFunction",
  events: "events:PutEvents",
} as const;
export type DestinationService = keyof typeof DESTINATION_ACTIONS;

/** What each service's ARN looks like after `arn:<partition>:<service>:<region>:<account>:`. */
const RESOURCE_PATTERNS: Record<DestinationService, { pattern: RegExp; example: string }> = {
  sqs: { pattern: /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/, example: "arn:aws:sqs:eu-west-1:123456789012:failures" },
  sns: { pattern: /^[A-Za-z0-9_-]{1,256}(\.fifo)?$/, example: "arn:aws:sns:eu-west-1:123456789012:failures" },
  lambda: { pattern: /^function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/, example: "arn:aws:lambda:eu-west-1:123456789012:function:on-failure" },
  events: { pattern: /^event-bus\/[A-Za-z0-9._\-/]{1,256}$/, example: "arn:aws:events:eu-west-1:123456789012:event-bus/default" },
};

const ARN_PATTERN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):(.+)$/;

/** The service of a destination ARN, or why it is not one Lambda accepts. */
export function destinationService(arn: string, allowed: readonly DestinationService[] = Object.keys(DESTINATION_ACTIONS) as DestinationService[]): { service: DestinationService } | { problem: string } {
  const kinds = allowed.map((service) => ({ sqs: "an SQS queue", sns: "an SNS topic", lambda: "a Lambda function", events: "an EventBridge bus" })[service]);
  const expected = `${kinds.length > 1 ? `${kinds.slice(0, -1).join(", ")} or ${kinds[kinds.length - 1]}` : kinds[0]} ARN, e.g. ${JSON.stringify(RESOURCE_PATTERNS[allowed[0]].example)}`;
  const match = typeof arn === "string" ? ARN_PATTERN.exec(arn) : null;
  if (!match) return { problem: `${JSON.stringify(arn)} is not an ARN; give ${expected}.` };
  const [, , service, region, , resource] = match;
  if (!(allowed as readonly string[]).includes(service)) return { problem: `${JSON.stringify(arn)} is an ARN of the ${service} service; give ${expected}.` };
  const kind = service as DestinationService;
  if (!region || !RESOURCE_PATTERNS[kind].pattern.test(resource)) return { problem: `${JSON.stringify(arn)} is not a valid ${kind} ARN; give ${expected}.` };
  return { service: kind };
}
