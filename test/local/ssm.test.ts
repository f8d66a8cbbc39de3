/** The local Parameter Store, driven by the real SSM client and by Powertools' SSMProvider as the handlers use it. */
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from "@aws-sdk/client-ssm";
import { expect } from "chai";
import { readApp } from "../../local/app";
import { LocalSsm } from "../../local/ssm";

describe("local Parameter Store endpoint (real SSM client)", () => {
  let ssm: LocalSsm;
  let client: SSMClient;

  before(async () => {
    ssm = new LocalSsm();
    ssm.put({ name: "/app/fn/limit", type: "String", value: "25" });
    ssm.put({ name: "/app/fn/secret", type: "SecureString", value: "s3cr3t" });
    ssm.put({ name: "/app/fn/nested/deep", type: "String", value: "d" });
    ssm.put({ name: "/app/other/x", type: "String", value: "x" });
    ssm.put({ name: "/filtered/plain", type: "String", value: "p" });
    ssm.put({ name: "/filtered/list", type: "StringList", value: "a,b" });
    ssm.put({ name: "/filtered/default-key", type: "SecureString", value: "d" });
    ssm.put({ name: "/filtered/own-key", type: "SecureString", value: "o", keyId: "alias/orders" });
    for (let i = 0; i < 12; i++) ssm.put({ name: `/many/p${String(i).padStart(2, "0")}`, type: "String", value: String(i) });
    const endpoint = await ssm.start();
    client = new SSMClient({ region: "eu-west-1", endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  });

  after(async () => {
    client.destroy();
    await ssm.stop();
  });

  it("reads a path as Powertools' getMultiple does: recursive, decrypted, relative names", async () => {
    const provider = new SSMProvider({ awsSdkV3Client: client });
    expect(await provider.getMultiple("/app/fn", { recursive: true, decrypt: true })).to.deep.equal({ limit: "25", secret: "s3cr3t", "nested/deep": "d" });
  });

  it("leaves SecureStrings encrypted without WithDecryption, and sub-paths out without Recursive", async () => {
    const { Parameters = [] } = await client.send(new GetParametersByPathCommand({ Path: "/app/fn" }));
    expect(Parameters.map((p) => p.Name)).to.deep.equal(["/app/fn/limit", "/app/fn/secret"]);
    expect(Parameters[1].Value).not.to.equal("s3cr3t");
  });

  it("pages through NextToken", async () => {
    const first = await client.send(new GetParametersByPathCommand({ Path: "/many", MaxResults: 10 }));
    expect(first.Parameters).to.have.length(10);
    const second = await client.send(new GetParametersByPathCommand({ Path: "/many", MaxResults: 10, NextToken: first.NextToken }));
    expect(second.Parameters?.map((p) => p.Value)).to.deep.equal(["10", "11"]);
    expect(second.NextToken).to.equal(undefined);
  });

  it("applies ParameterFilters on Type and KeyId (Equals, BeginsWith) to GetParametersByPath, before paging", async () => {
    const names = async (ParameterFilters: Array<{ Key: string; Option?: string; Values: string[] }>, MaxResults?: number) =>
      ((await client.send(new GetParametersByPathCommand({ Path: "/filtered", ParameterFilters, MaxResults }))).Parameters ?? []).map((p) => p.Name);
    expect(await names([{ Key: "Type", Values: ["SecureString"] }])).to.deep.equal(["/filtered/default-key", "/filtered/own-key"]);
    expect(await names([{ Key: "Type", Option: "Equals", Values: ["String", "StringList"] }])).to.deep.equal(["/filtered/list", "/filtered/plain"]);
    expect(await names([{ Key: "Type", Option: "BeginsWith", Values: ["String"] }])).to.deep.equal(["/filtered/list", "/filtered/plain"]);
    // A SecureString the program gave no key is encrypted with the account's default key, as in AWS.
    expect(await names([{ Key: "KeyId", Values: ["alias/aws/ssm"] }])).to.deep.equal(["/filtered/default-key"]);
    expect(await names([{ Key: "KeyId", Option: "BeginsWith", Values: ["alias/o"] }, { Key: "Type", Values: ["SecureString"] }])).to.deep.equal(["/filtered/own-key"]);
    expect(await names([{ Key: "Type", Values: ["SecureString"] }], 1)).to.deep.equal(["/filtered/default-key"]);
  });

  it("refuses a ParameterFilter it does not apply, naming it, instead of ignoring it", async () => {
    const failure = (ParameterFilters: Array<{ Key: string; Option?: string; Values?: string[] }>) =>
      client.send(new GetParametersByPathCommand({ Path: "/filtered", ParameterFilters })).then(() => expect.fail("should have failed"), (e: Error) => `${e.name}: ${e.message}`);
    expect(await failure([{ Key: "Name", Values: ["/filtered/plain"] }])).to.match(/^InvalidFilterKey: .*Name.*GetParametersByPath.*Type, KeyId, Label/);
    expect(await failure([{ Key: "tag:team", Values: ["orders"] }])).to.match(/^InvalidFilterKey: .*tag:team/);
    expect(await failure([{ Key: "Label", Values: ["live"] }])).to.match(/^InvalidFilterKey: .*Label.*local Parameter Store has no labels/);
    expect(await failure([{ Key: "Type", Option: "Contains", Values: ["String"] }])).to.match(/^InvalidFilterOption: .*Contains.*Equals, BeginsWith/);
    expect(await failure([{ Key: "Type", Values: ["Secret"] }])).to.match(/^InvalidFilterValue: .*Secret.*String, StringList, SecureString/);
    expect(await failure([{ Key: "Type" }])).to.match(/^InvalidFilterValue: .*Type.*1 to 50/);
  });

  it("answers GetParameter, and ParameterNotFound / ValidationException for bad requests", async () => {
    expect((await client.send(new GetParameterCommand({ Name: "/app/fn/secret", WithDecryption: true }))).Parameter?.Value).to.equal("s3cr3t");
    const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("should have failed"), (e: Error) => e.name);
    expect(await failure(client.send(new GetParameterCommand({ Name: "/app/none" })))).to.equal("ParameterNotFound");
    expect(await failure(client.send(new GetParametersByPathCommand({ Path: "no-slash" })))).to.equal("ValidationException");
  });

  it("takes a SecureString's KMS key from the program, so a KeyId filter matches as in AWS", () => {
    const parameter = (name: string, inputs: Record<string, unknown>) => ({ urn: `urn:${name}`, id: name, type: "aws:ssm/parameter:Parameter", name, custom: true, protect: false, dependencies: [], inputs: { name, ...inputs }, outputs: {} });
    const { parameters } = readApp([parameter("/a/own", { type: "SecureString", value: "x", keyId: "alias/orders" }), parameter("/a/default", { type: "SecureString", value: "y" })]);
    expect(parameters).to.deep.equal([{ name: "/a/own", type: "SecureString", value: "x", keyId: "alias/orders" }, { name: "/a/default", type: "SecureString", value: "y" }]);
  });
});
