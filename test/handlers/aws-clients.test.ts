import { createServer, type Server, type Socket } from "node:net";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { awsClientConfig, SEQUENTIAL_AWS_CALLS, sdkTimeouts, worstCallMs } from "../../handlers/lib/aws-clients";

describe("handlers/lib/aws-clients: SDK timeouts from the function's timeout", () => {
  it("fits the longest chain of calls, every attempt timing out, inside the function's timeout (1-900 s)", () => {
    for (const seconds of [1, 2, 3, 5, 10, 30, 60, 900]) {
      const timeouts = sdkTimeouts(seconds);
      expect(timeouts.connectionTimeout, `${seconds} s`).to.be.above(0);
      expect(timeouts.requestTimeout, `${seconds} s`).to.be.above(0);
      expect(timeouts.maxAttempts, `${seconds} s`).to.be.within(1, 3);
      expect(SEQUENTIAL_AWS_CALLS * worstCallMs(timeouts), `${seconds} s`).to.be.below(seconds * 1000);
    }
    // Enough room for retries at the API's timeout.
    expect(sdkTimeouts(10).maxAttempts).to.equal(3);
  });

  it("refuses a FUNCTION_TIMEOUT_SECONDS that is not a positive integer, instead of timeouts of NaN", () => {
    const saved = process.env.FUNCTION_TIMEOUT_SECONDS;
    try {
      for (const text of ["ten", "1.5", "0", ""]) {
        process.env.FUNCTION_TIMEOUT_SECONDS = text;
        expect(() => awsClientConfig(), JSON.stringify(text)).to.throw(/^Environment variable FUNCTION_TIMEOUT_SECONDS (must be a positive integer, got "|is required)/);
      }
      process.env.FUNCTION_TIMEOUT_SECONDS = " 10 ";
      expect(awsClientConfig().maxAttempts).to.equal(sdkTimeouts(10).maxAttempts);
    } finally {
      if (saved === undefined) delete process.env.FUNCTION_TIMEOUT_SECONDS;
      else process.env.FUNCTION_TIMEOUT_SECONDS = saved;
    }
  });

  describe("a client against an endpoint that accepts and never answers", () => {
    let server: Server;
    let endpoint: string;
    const sockets = new Set<Socket>();
    const saved = process.env.FUNCTION_TIMEOUT_SECONDS;

    before(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    after(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      if (saved === undefined) delete process.env.FUNCTION_TIMEOUT_SECONDS;
      else process.env.FUNCTION_TIMEOUT_SECONDS = saved;
    });

    it("gives up within its share of a 2 s function timeout, after its attempts", async () => {
      process.env.FUNCTION_TIMEOUT_SECONDS = "2";
      const config = awsClientConfig();
      const client = new DynamoDBClient({ ...config, endpoint, region: "eu-west-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
      const started = Date.now();
      try {
        const error = await client.send(new ListTablesCommand({})).then(() => undefined, (e: Error & { $metadata?: { attempts?: number } }) => e);
        const elapsed = Date.now() - started;
        expect(error, "the call hung up instead of timing out").to.be.instanceOf(Error);
        expect(error!.$metadata?.attempts).to.equal(config.maxAttempts);
        expect(elapsed).to.be.below(worstCallMs(sdkTimeouts(2)) + 200);
      } finally {
        client.destroy();
      }
    });
  });
});
