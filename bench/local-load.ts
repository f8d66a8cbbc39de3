/**
 * `npm run bench:local [-- --requests N] [-- --concurrency C]`: requests per second and
 * p50/p99 latency of `GET /orders/{orderId}` and `POST /orders` against the local runtime
 * (`npm run dev`'s, stack dev, in this process), under a bounded load from a second Node
 * process (bench/local-load-client.mjs) on loopback. Each case starts with an unrecorded
 * warm-up, so the figures are of warm environments; the function pool is the runtime's
 * default (4 environments per function). POST /orders runs twice: spread over many customers,
 * each under the default daily limit as a real customer is, and for one customer whose count
 * of the day's orders (the limit check reads them all) grows with every request.
 */
import { execFile } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { startLocalRuntime } from "../local/runtime";
import { loadStackConfig } from "../tools/stack-config";

const ROOT = path.resolve(__dirname, "..");

function intFlag(name: string, fallback: number, min: number, max: number): number {
  const args = process.argv.slice(2);
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(args[at + 1])}`);
  return value;
}

const REQUESTS = intFlag("--requests", 2000, 10, 100_000);
const CONCURRENCY = intFlag("--concurrency", 8, 1, 64);
/** Orders per customer in the many-customer case: half the default limit (50), so no count passes it. */
const ORDERS_PER_CUSTOMER = 25;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function load(spec: Record<string, unknown>): Promise<{ rps: number; p50: number; p99: number; statuses: Record<string, number> }> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, "local-load-client.mjs"), JSON.stringify(spec)], { maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
  const { latencies, seconds, statuses } = JSON.parse(stdout) as { latencies: number[]; seconds: number; statuses: Record<string, number> };
  const sorted = [...latencies].sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), statuses };
}

async function main(): Promise<void> {
  let logged = 0;
  // One customer creates every order of the last case, so the per-customer daily limit is lifted to its maximum.
  const stackConfig = loadStackConfig("dev", ROOT);
  stackConfig.config[`${stackConfig.project}:maxOrdersPerCustomerPerDay`] = "100000";
  const runtime = await startLocalRuntime({ root: ROOT, stack: "dev", stackConfig, workDir: path.join(ROOT, ".local", "bench-local"), log: () => { logged++; } });
  try {
    const [authorizerId, token] = Object.entries(runtime.tokens)[0];
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const warmup = Math.min(200, REQUESTS);
    // A token for each customer (its subject), with the scopes of the runtime's own.
    const { scope } = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as { scope: string };
    const customers = await Promise.all(Array.from({ length: Math.ceil((warmup + REQUESTS) / ORDERS_PER_CUSTOMER) }, async (_, i) => {
      const customerId = `bench-customer-${i}`;
      const customerToken = await runtime.issueToken(authorizerId, scope.split(" "), { subject: customerId });
      return { headers: { ...headers, authorization: `Bearer ${customerToken}` }, body: JSON.stringify({ customerId, items: [{ sku: "book", quantity: 1 }] }) };
    }));
    const created = await fetch(`${runtime.url}/orders`, { method: "POST", headers: { ...headers, "idempotency-key": "bench-seed" }, body: JSON.stringify({ customerId: "local-developer", items: [{ sku: "seed", quantity: 1 }] }) });
    if (created.status !== 201) throw new Error(`seeding an order answered ${created.status}: ${await created.text()}`);
    const { orderId } = (await created.json()) as { orderId: string };
    // Each POST carries a new idempotency key, so every one creates an order (201).
    const cases = [
      { name: "GET /orders/{orderId}", method: "GET", path: `/orders/${orderId}`, variants: [{ headers }], expected: 200, freshIdempotencyKey: false },
      { name: `POST /orders (${customers.length} customers, up to ${ORDERS_PER_CUSTOMER} orders each)`, method: "POST", path: "/orders", variants: customers, expected: 201, freshIdempotencyKey: true },
      { name: `POST /orders (one customer, up to ${warmup + REQUESTS + 1} orders)`, method: "POST", path: "/orders", variants: [{ headers, body: JSON.stringify({ customerId: "local-developer", items: [{ sku: "book", quantity: 1 }] }) }], expected: 201, freshIdempotencyKey: true },
    ];
    console.log(`Local runtime, stack dev: ${REQUESTS} requests per case, ${CONCURRENCY} in flight, from a second Node process over loopback (Node ${process.version}, ${os.cpus().length} CPUs)\n`);
    console.log("| route | requests/s | p50 | p99 | statuses |");
    console.log("|---|---|---|---|---|");
    for (const c of cases) {
      const result = await load({ url: runtime.url, method: c.method, path: c.path, variants: c.variants, freshIdempotencyKey: c.freshIdempotencyKey, requests: REQUESTS, concurrency: CONCURRENCY, warmup });
      console.log(`| ${c.name} | ${result.rps.toFixed(0)} | ${result.p50.toFixed(1)} ms | ${result.p99.toFixed(1)} ms | ${Object.entries(result.statuses).map(([s, n]) => `${s}: ${n}`).join(", ")} |`);
      // Figures of error answers would measure the wrong path.
      if (Object.keys(result.statuses).some((status) => Number(status) !== c.expected)) throw new Error(`${c.name} answered ${JSON.stringify(result.statuses)}, expected only ${c.expected}`);
    }
    console.log(`\n(${logged} log lines written by the runtime were discarded)`);
  } finally {
    await runtime.stop();
  }
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
