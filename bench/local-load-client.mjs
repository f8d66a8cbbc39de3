// The load generator of bench/local-load.ts, in its own Node process: sends a bounded number
// of requests over loopback with a fixed number in flight (keep-alive connections) and
// prints one JSON line with the latency of each request, in ms. Requests take their headers
// and body from `variants` in turn (e.g. one per customer).
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";

const { url, method, path, variants, freshIdempotencyKey, requests, concurrency, warmup } = JSON.parse(process.argv[2]);
if (!String(url).startsWith("http://127.0.0.1:")) throw new Error(`loopback only, got ${url}`);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(path, url);

let sent = 0;

function once() {
  const { headers, body } = variants[sent++ % variants.length];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const requestHeaders = freshIdempotencyKey ? { ...headers, "idempotency-key": randomUUID() } : headers;
    const req = request(target, { method, headers: requestHeaders, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function run(total) {
  const results = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next += 1;
      results.push(await once());
    }
  }));
  return { results, seconds: (performance.now() - started) / 1000 };
}

await run(warmup);
const { results, seconds } = await run(requests);
agent.destroy();
const statuses = {};
for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
console.log(JSON.stringify({ latencies: results.map((r) => r.ms), seconds, statuses }));
