/**
 * REST API throttling and quotas as API Gateway applies them: a token bucket per method of
 * the stage (`rateLimit` tokens a second, `burstLimit` deep, starting full), a bucket per
 * API key from its usage plan's throttle, and the plan's quota counted per key and period
 * (DAY from 00:00 UTC, WEEK from Monday 00:00 UTC, MONTH from the 1st, each moved `offset`
 * days).
 */
import type { UsagePlanModel } from "./rest-model";

class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number) {
    this.tokens = burst;
    this.at = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const DAY_MS = 86_400_000;

/** The start of the quota period containing `now` (ms), for `period` moved `offset` days. */
export function quotaPeriodStart(period: "DAY" | "WEEK" | "MONTH", offset: number, now: number): number {
  const shifted = new Date(now - offset * DAY_MS);
  const midnight = Date.UTC(shifted.getUTCFullYear(), shifted.getUTCMonth(), shifted.getUTCDate());
  let start = midnight;
  if (period === "WEEK") start = midnight - ((shifted.getUTCDay() + 6) % 7) * DAY_MS;
  else if (period === "MONTH") start = Date.UTC(shifted.getUTCFullYear(), shifted.getUTCMonth(), 1);
  return start + offset * DAY_MS;
}

export type Admission = { ok: true } | { ok: false; message: "Too Many Requests" | "Limit Exceeded"; reason: string };

/** The throttles and quotas of one REST stage. */
export class UsageLimiter {
  private readonly methodBuckets = new Map<string, TokenBucket>();
  private readonly keyBuckets = new Map<string, TokenBucket>();
  private readonly used = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly stageThrottle: { rateLimit: number; burstLimit: number } | undefined,
    private readonly plans: UsagePlanModel[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The stage's throttle of one method. */
  admitMethod(routeKey: string): Admission {
    if (!this.stageThrottle) return { ok: true };
    let bucket = this.methodBuckets.get(routeKey);
    if (!bucket) this.methodBuckets.set(routeKey, (bucket = new TokenBucket(this.stageThrottle.rateLimit, this.stageThrottle.burstLimit, this.now)));
    return bucket.take() ? { ok: true } : { ok: false, message: "Too Many Requests", reason: `stage throttle of ${routeKey} (${this.stageThrottle.rateLimit}/s, burst ${this.stageThrottle.burstLimit})` };
  }

  /** The usage plan of a key: its throttle, then its quota (a throttled request uses none of the quota). */
  admitKey(keyName: string): Admission {
    const plan = this.plans.find((p) => p.keys.includes(keyName));
    if (!plan) return { ok: true };
    if (plan.throttle) {
      let bucket = this.keyBuckets.get(keyName);
      if (!bucket) this.keyBuckets.set(keyName, (bucket = new TokenBucket(plan.throttle.rateLimit, plan.throttle.burstLimit, this.now)));
      if (!bucket.take()) return { ok: false, message: "Too Many Requests", reason: `key ${keyName}: plan ${plan.name}'s throttle (${plan.throttle.rateLimit}/s, burst ${plan.throttle.burstLimit})` };
    }
    if (plan.quota) {
      const start = quotaPeriodStart(plan.quota.period, plan.quota.offset, this.now());
      const used = this.used.get(keyName);
      const current = used && used.start === start ? used : { start, count: 0 };
      if (current.count >= plan.quota.limit) return { ok: false, message: "Limit Exceeded", reason: `key ${keyName}: plan ${plan.name}'s quota of ${plan.quota.limit} per ${plan.quota.period} is used up` };
      current.count += 1;
      this.used.set(keyName, current);
    }
    return { ok: true };
  }
}
