/**
 * The hardening a reviewer (cdk-nag, Checkov) expects of the orders stacks: Cognito, the
 * alarm topic, the VPC's endpoints, flow logs and security groups.
 */
import { expect } from "chai";
import * as path from "path";
import { ORDERS_SCOPES } from "../app/identity";
import { evaluateProgram, Evaluation, MOCK_ACCOUNT_ID } from "../tools/mock-engine";
import { loadStackConfig } from "../tools/stack-config";
import { ofType, one, stackPlan } from "./mocks";

const ROOT = path.resolve(__dirname, "..");

function evaluateStack(stack: string, overrides: Record<string, string>): Promise<Evaluation> {
  const stackConfig = loadStackConfig(stack, ROOT);
  return evaluateProgram(path.join(ROOT, "index.ts"), { ...stackConfig, config: { ...stackConfig.config, ...overrides } });
}

async function configError(stack: string, overrides: Record<string, string>): Promise<string> {
  const error = await evaluateStack(stack, overrides).then(() => undefined, (e: Error) => e);
  if (!error) throw new Error(`stack ${stack} accepted ${JSON.stringify(overrides)}`);
  return error.message;
}

const statements = (policy: string) => JSON.parse(policy).Statement as Array<Record<string, any>>;

describe("the orders stacks' hardening", () => {
  let dev: Evaluation;
  let prod: Evaluation;
  before(async () => {
    dev = await stackPlan("dev");
    prod = await stackPlan("prod");
  });

  describe("Cognito", () => {
    const pool = (evaluation: Evaluation) => one(evaluation.resources, "aws:cognito/userPool:UserPool").inputs;

    it("has TOTP MFA in every stack: optional in dev, required in prod", () => {
      expect(pool(dev)).to.include({ mfaConfiguration: "OPTIONAL" });
      expect(pool(prod)).to.include({ mfaConfiguration: "ON" });
      for (const evaluation of [dev, prod]) expect(pool(evaluation).softwareTokenMfaConfiguration).to.deep.equal({ enabled: true });
    });

    it("enforces threat protection on the Plus plan (prod), and leaves it off where the plan has none (dev)", () => {
      expect(pool(prod)).to.include({ userPoolTier: "PLUS" });
      expect(pool(prod).userPoolAddOns).to.deep.equal({ advancedSecurityMode: "ENFORCED" });
      expect(pool(dev)).to.include({ userPoolTier: "ESSENTIALS" });
      expect(pool(dev).userPoolAddOns).to.deep.equal({ advancedSecurityMode: "OFF" });
    });

    it("lets anyone sign up in dev only; prod's accounts are created by administrators", () => {
      expect(pool(dev).adminCreateUserConfig).to.deep.equal({ allowAdminCreateUserOnly: false });
      expect(pool(prod).adminCreateUserConfig).to.deep.equal({ allowAdminCreateUserOnly: true });
    });

    it("keeps a changed email unverified until confirmed, and recovers accounts by verified email", () => {
      for (const evaluation of [dev, prod]) {
        expect(pool(evaluation).userAttributeUpdateSettings).to.deep.equal({ attributesRequireVerificationBeforeUpdates: ["email"] });
        expect(pool(evaluation).accountRecoverySetting).to.deep.equal({ recoveryMechanisms: [{ name: "verified_email", priority: 1 }] });
      }
    });

    it("sets the client's token validity and revocation, with the code flow only and no secret", () => {
      for (const evaluation of [dev, prod]) {
        const client = one(evaluation.resources, "aws:cognito/userPoolClient:UserPoolClient").inputs;
        expect(client).to.include({ accessTokenValidity: 60, idTokenValidity: 60, refreshTokenValidity: 30, enableTokenRevocation: true, generateSecret: false, allowedOauthFlowsUserPoolClient: true });
        expect(client.tokenValidityUnits).to.deep.equal({ accessToken: "minutes", idToken: "minutes", refreshToken: "days" });
        expect(client.allowedOauthFlows).to.deep.equal(["code"]);
        expect(client.explicitAuthFlows).to.deep.equal(["ALLOW_REFRESH_TOKEN_AUTH"]);
        expect(client.allowedOauthScopes).to.include.members([ORDERS_SCOPES.read, ORDERS_SCOPES.write]);
      }
      expect(one(dev.resources, "aws:cognito/userPoolClient:UserPoolClient").inputs.callbackUrls).to.deep.equal(["http://localhost:5173/callback"]);
      expect(one(prod.resources, "aws:cognito/userPoolClient:UserPoolClient").inputs.callbackUrls).to.deep.equal(["https://shop.example.com/auth/callback"]);
    });

    it("keeps the client's logical name, so upgrading the stack does not replace it (and change its id)", () => {
      expect(one(prod.resources, "aws:cognito/userPoolClient:UserPoolClient").name).to.equal("orders-web");
      expect(one(prod.resources, "aws:cognito/userPool:UserPool").name).to.equal("customers");
    });

    it("exports the managed login's domain, unique per account, for the web app's sign-in", () => {
      const domain = one(prod.resources, "aws:cognito/userPoolDomain:UserPoolDomain").inputs;
      expect(domain.domain).to.equal(`serverless-orders-prod-login-${MOCK_ACCOUNT_ID}`);
      expect(prod.outputs.authDomain).to.equal(domain.domain);
      expect(dev.outputs.authDomain).to.equal(`serverless-orders-dev-login-${MOCK_ACCOUNT_ID}`);
    });

    it("requires a scope of the resource server on every JWT route, so an ID token (which carries none) is refused", () => {
      const server = one(prod.resources, "aws:cognito/resourceServer:ResourceServer").inputs;
      expect(server.identifier).to.equal("orders");
      expect(server.scopes.map((s: { scopeName: string }) => `${server.identifier}/${s.scopeName}`)).to.have.members(Object.values(ORDERS_SCOPES));
      for (const evaluation of [dev, prod]) {
        const scopes = Object.fromEntries(ofType(evaluation.resources, "aws:apigatewayv2/route:Route").map((r) => [r.inputs.routeKey, r.inputs.authorizationScopes]));
        expect(scopes).to.deep.equal({ "POST /orders": [ORDERS_SCOPES.write], "GET /orders/{orderId}": [ORDERS_SCOPES.read], "GET /orders": [ORDERS_SCOPES.read], "GET /health": undefined });
      }
    });

    it("refuses an unknown tier or MFA mode and a callback that is not https, naming each key", async () => {
      const message = await configError("prod", { "serverless-orders:userPoolTier": "GOLD", "serverless-orders:mfa": "OFF", "serverless-orders:authCallbackUrl": "http://shop.example.com/cb" });
      expect(message).to.include('serverless-orders:userPoolTier = "GOLD" is not one of LITE, ESSENTIALS, PLUS')
        .and.include('serverless-orders:mfa = "OFF" is not one of OPTIONAL, ON')
        .and.include('serverless-orders:authCallbackUrl = "http://shop.example.com/cb" is not an https URL')
        .and.include("pulumi config set mfa <value> --stack prod");
    });
  });

  describe("the alarm topic", () => {
    for (const stack of ["dev", "prod"]) {
      it(`denies publishing and subscribing without TLS, and lets this account's alarms publish (${stack})`, async () => {
        const evaluation = stack === "dev" ? dev : prod;
        const topic = one(evaluation.resources, "aws:sns/topic:Topic");
        const policy = one(evaluation.resources, "aws:sns/topicPolicy:TopicPolicy").inputs;
        expect(policy.arn).to.equal(topic.outputs.arn);
        const found = statements(policy.policy);
        expect(found).to.deep.include({ Sid: "DenyWithoutTls", Effect: "Deny", Principal: "*", Action: "sns:*", Resource: topic.outputs.arn, Condition: { Bool: { "aws:SecureTransport": "false" } } });
        expect(found).to.deep.include({ Sid: "CloudWatchAlarmsPublish", Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: topic.outputs.arn, Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } } });
      });
    }
  });

  describe("the VPC (prod)", () => {
    const endpoint = (service: string) => one(prod.resources, "aws:ec2/vpcEndpoint:VpcEndpoint", `orders-network-${service}`);

    it("gives every endpoint a policy for this account's principals on this stack's resources only", () => {
      const expected: Record<string, string[]> = {
        dynamodb: [`arn:aws:dynamodb:eu-west-1:${MOCK_ACCOUNT_ID}:table/serverless-orders-prod-*`],
        sqs: [`arn:aws:sqs:eu-west-1:${MOCK_ACCOUNT_ID}:serverless-orders-prod-*`],
        ssm: [`arn:aws:ssm:eu-west-1:${MOCK_ACCOUNT_ID}:parameter/serverless-orders/prod/*`],
        xray: ["*"],
      };
      for (const [service, resources] of Object.entries(expected)) {
        const [statement, ...others] = statements(endpoint(service).inputs.policy);
        expect(others, service).to.deep.equal([]);
        expect(statement, service).to.include({ Effect: "Allow", Principal: "*" });
        expect(statement.Resource, service).to.deep.equal(resources);
        expect(statement.Condition, service).to.deep.equal({ StringEquals: { "aws:PrincipalAccount": MOCK_ACCOUNT_ID } });
        for (const action of statement.Action) expect(action, service).to.match(new RegExp(`^${service}:[A-Z]\\w+$`));
      }
    });

    // Event source mappings read streams from Lambda's side, not through the functions' network.
    const READ_BY_LAMBDA_NOT_THROUGH_THE_VPC = /^dynamodb:(GetRecords|GetShardIterator|DescribeStream|ListStreams)$/;

    it("allows every action the functions' roles are granted on the table, queue and parameters through the endpoints", () => {
      const granted = ofType(prod.resources, "aws:iam/rolePolicy:RolePolicy")
        .flatMap((rolePolicy) => statements(rolePolicy.inputs.policy))
        .flatMap((s) => [s.Action].flat() as string[])
        .filter((action) => /^(dynamodb|sqs|ssm|xray):/.test(action) && !READ_BY_LAMBDA_NOT_THROUGH_THE_VPC.test(action));
      const allowed = new Set(["dynamodb", "sqs", "ssm", "xray"].flatMap((service) => statements(endpoint(service).inputs.policy)[0].Action as string[]));
      expect(granted).not.to.be.empty;
      for (const action of granted) expect(allowed.has(action), action).to.equal(true);
    });

    it("lets the functions send HTTPS only to the interface endpoints in the VPC and DynamoDB's gateway prefix list", () => {
      const group = one(prod.resources, "aws:ec2/securityGroup:SecurityGroup", "orders-network-functions").inputs;
      const gateway = endpoint("dynamodb");
      expect(group.egress.map((rule: Record<string, unknown>) => ({ ...rule, description: undefined }))).to.deep.equal([
        { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.20.0.0/16"], description: undefined },
        { protocol: "tcp", fromPort: 443, toPort: 443, prefixListIds: [gateway.outputs.prefixListId], description: undefined },
      ]);
      expect(gateway.outputs.prefixListId).to.match(/^pl-/);
      expect(one(prod.resources, "awsx:ec2:Vpc").inputs.cidrBlock).to.equal("10.20.0.0/16");
    });

    it("logs every flow of the VPC to a log group with the stack's retention, written by a role of its own", () => {
      const vpc = one(prod.resources, "awsx:ec2:Vpc");
      const flowLog = one(prod.resources, "aws:ec2/flowLog:FlowLog").inputs;
      const logGroup = one(prod.resources, "aws:cloudwatch/logGroup:LogGroup", "orders-network-flow-logs");
      const role = one(prod.resources, "aws:iam/role:Role", "orders-network-flow-logs");
      expect(flowLog).to.include({ vpcId: vpc.outputs.vpcId, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: logGroup.outputs.arn, iamRoleArn: role.outputs.arn });
      expect(logGroup.inputs.retentionInDays).to.equal(90);
      expect(statements(role.inputs.assumeRolePolicy)).to.deep.equal([{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole", Condition: { StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID } } }]);
      const [write] = role.inputs.inlinePolicies.map((p: { policy: string }) => statements(p.policy)).flat();
      expect(write.Resource).to.deep.equal([logGroup.outputs.arn, `${logGroup.outputs.arn}:*`]);
      expect(ofType(dev.resources, "aws:ec2/flowLog:FlowLog")).to.have.length(0);
    });
  });
});
