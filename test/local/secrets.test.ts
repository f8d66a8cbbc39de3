/**
 * Secrets for `npm run dev`: a declared secret key, which the stack files cannot hold, gets
 * the value given for the run, or a random one the runtime says it generated, and is
 * served as a SecureString, read back with the real SDK v3 SSM client.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { expect } from "chai";
import { startLocalRuntime } from "../../local/runtime";
import { SECRET_PLACEHOLDER } from "../../tools/stack-config";
import { captureLog, PROJECT_ROOT } from "./support";

const KEY = "fixture:apiSigningKey";
const NAME = "/fixture/test/signer/apiSigningKey";

describe("local runtime: secret config keys (fixture program)", function () {
  const localDir = path.join(PROJECT_ROOT, ".local", `test-secrets-${process.pid}`);
  const { log } = captureLog();

  after(() => fs.rmSync(localDir, { recursive: true, force: true }));

  /** Runs the fixture program with `secrets`; returns the SecureString's decrypted value and the runtime's notes. */
  async function served(secrets?: Record<string, string>): Promise<{ value?: string; type?: string; notes: string[] }> {
    const runtime = await startLocalRuntime({
      root: PROJECT_ROOT,
      stack: "test",
      programFile: path.join(__dirname, "fixtures", "secret-program.ts"),
      // As loadStackConfig gives a declared secret without a usable value: the offline placeholder.
      stackConfig: { project: "fixture", stack: "test", config: { "aws:region": "eu-west-1", [KEY]: SECRET_PLACEHOLDER }, secretKeys: [KEY], placeholders: [KEY] },
      secrets,
      workDir: path.join(localDir, "functions"),
      watch: false,
      log,
    });
    const ssm = new SSMClient({ region: "eu-west-1", endpoint: runtime.endpoints.ssm, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    try {
      const { Parameter } = await ssm.send(new GetParameterCommand({ Name: NAME, WithDecryption: true }));
      return { value: Parameter?.Value, type: Parameter?.Type, notes: runtime.notes };
    } finally {
      ssm.destroy();
      await runtime.stop();
    }
  }

  it("serves the value given for the run as a SecureString, never the offline placeholder", async () => {
    const { value, type, notes } = await served({ apiSigningKey: "given-for-this-run" });
    expect({ value, type }).to.deep.equal({ value: "given-for-this-run", type: "SecureString" });
    expect(notes.join("\n")).not.to.include("apiSigningKey");
  });

  it("generates a random value when none is given, and says where one would come from", async () => {
    const { value, type, notes } = await served();
    expect(type).to.equal("SecureString");
    expect(value).to.match(/^[0-9a-f]{64}$/).and.not.equal(SECRET_PLACEHOLDER);
    expect(notes).to.include("apiSigningKey: no value in LOCAL_SECRET_API_SIGNING_KEY or .local/secrets.json; generated a random one for this run.");
  });
});
