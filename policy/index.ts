/**
 * The serverless-orders policy pack: `pulumi preview --policy-pack policy
 * --policy-pack-config policy/config.json`. The rules live in rules.ts as pure functions so
 * that the tests and `npm run plan` run the very same rules offline.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("serverless-orders", {
  description: "Security, reliability and wiring rules for the serverless-orders stacks (Lambda and its event sources, API Gateway, SQS, IAM, SSM, DynamoDB, CloudWatch).",
  enforcementLevel: "mandatory",
  policies,
});
