/** The local Parameter Store, driven by the real SSM client and by Powertools' SSMProvider as the handlers use it. */
import { SSMProvider } from "@aws-lambda-powertools/parameters/ssm";
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from "@aws-sdk/client-ssm";
import { expect } from "chai";
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

  it("answers GetParameter, and ParameterNotFound / ValidationException for bad requests", async () => {
    expect((await client.send(new GetParameterCommand({ Name: "/app/fn/secret", WithDecryption: true }))).Parameter?.Value).to.equal("s3cr3t");
    const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail("should have failed"), (e: Error) => e.name);
    expect(await failure(client.send(new GetParameterCommand({ Name: "/app/none" })))).to.equal("ParameterNotFound");
    expect(await failure(client.send(new GetParametersByPathCommand({ Path: "no-slash" })))).to.equal("ValidationException");
  });
});
