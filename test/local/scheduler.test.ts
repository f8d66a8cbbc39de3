/** Schedule expressions as EventBridge Scheduler reads them, and firing on an injected clock. */
import { expect } from "chai";
import type { ScheduleModel } from "../../local/async-model";
import { LocalScheduler, parseScheduleExpression, type ScheduleFiring } from "../../local/scheduler";

const from = new Date("2026-01-01T00:00:00Z");
/** The next `count` firings after `from`, as ISO strings. */
function firings(expression: string, timezone = "UTC", count = 3, start?: Date): string[] {
  const parsed = parseScheduleExpression(expression, timezone, start);
  const out: string[] = [];
  let at: Date | undefined = from;
  while (out.length < count && (at = parsed.next(at))) out.push(at.toISOString());
  return out;
}

describe("local runtime: Scheduler expressions", () => {
  const cases: Array<[expression: string, timezone: string, expected: string[]]> = [
    // AWS's day-of-week: 1 is Sunday, 2 Monday; 2026-01-05 is a Monday.
    ["cron(0 10 ? * 2 *)", "UTC", ["2026-01-05T10:00:00.000Z", "2026-01-12T10:00:00.000Z", "2026-01-19T10:00:00.000Z"]],
    ["cron(15 10 ? * 6L 2026)", "UTC", ["2026-01-30T10:15:00.000Z", "2026-02-27T10:15:00.000Z", "2026-03-27T10:15:00.000Z"]],
    // 15 February 2026 is a Sunday: the nearest weekday is Monday the 16th.
    ["cron(0 12 15W * ? *)", "UTC", ["2026-01-15T12:00:00.000Z", "2026-02-16T12:00:00.000Z", "2026-03-16T12:00:00.000Z"]],
    ["cron(0 12 L * ? *)", "UTC", ["2026-01-31T12:00:00.000Z", "2026-02-28T12:00:00.000Z", "2026-03-31T12:00:00.000Z"]],
    ["cron(0 12 ? * 3#2 *)", "UTC", ["2026-01-13T12:00:00.000Z", "2026-02-10T12:00:00.000Z", "2026-03-10T12:00:00.000Z"]],
    ["cron(0/20 * * * ? *)", "UTC", ["2026-01-01T00:20:00.000Z", "2026-01-01T00:40:00.000Z", "2026-01-01T01:00:00.000Z"]],
    ["cron(0 8 ? * MON-FRI *)", "America/New_York", ["2026-01-01T13:00:00.000Z", "2026-01-02T13:00:00.000Z", "2026-01-05T13:00:00.000Z"]],
    // Paris moves to summer time (UTC+2) early on 29 March 2026.
    ["cron(30 9 29,30 3 ? 2026)", "Europe/Paris", ["2026-03-29T07:30:00.000Z", "2026-03-30T07:30:00.000Z"]],
    ["at(2026-03-01T10:00:00)", "Europe/Paris", ["2026-03-01T09:00:00.000Z"]],
    ["rate(1 hour)", "UTC", ["2026-01-01T01:00:00.000Z", "2026-01-01T02:00:00.000Z", "2026-01-01T03:00:00.000Z"]],
    ["rate(15 minutes)", "UTC", ["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z", "2026-01-01T00:45:00.000Z"]],
  ];
  for (const [expression, timezone, expected] of cases) {
    it(`${expression} in ${timezone}`, () => {
      expect(firings(expression, timezone, 3, from)).to.deep.equal(expected);
    });
  }

  it("refuses what the Scheduler refuses, saying which forms it takes", () => {
    const forms = "Use rate(<n> minutes|hours|days), cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or at(yyyy-mm-ddThh:mm:ss).";
    expect(() => parseScheduleExpression("cron(0 10 * * ?)")).to.throw(`Schedule expression "cron(0 10 * * ?)": cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5. ${forms}`);
    expect(() => parseScheduleExpression("cron(0 10 * * 2 *)")).to.throw("one of day-of-month and day-of-week must be ?, and only one");
    expect(() => parseScheduleExpression("rate(1 minutes)")).to.throw('say "1 minute"');
    expect(() => parseScheduleExpression("rate(5 minute)")).to.throw('say "5 minutes"');
    expect(() => parseScheduleExpression("every day")).to.throw("not a rate, cron or at expression");
  });
});

describe("local runtime: the Scheduler fires on its clock", () => {
  const schedule = (overrides: Partial<ScheduleModel>): ScheduleModel => ({
    name: "reports-nightly", scheduleName: "reports-nightly", arn: "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/reports-nightly",
    expression: "cron(0 2 * * ? *)", timezone: "UTC", enabled: true,
    target: { arn: "arn:aws:lambda:eu-west-1:123456789012:function:reports", input: JSON.stringify({ report: "daily" }), maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 },
    ...overrides,
  });

  it("fires each due firing once, within the end date, and skips disabled schedules; fire() fires one now", () => {
    let now = from.getTime();
    const fired: ScheduleFiring[] = [];
    const scheduler = new LocalScheduler({
      clock: { now: () => now, sleep: async () => undefined },
      fire: (firing) => fired.push(firing),
      schedules: [schedule({ endDate: "2026-01-02T12:00:00Z" }), schedule({ name: "reports-off", enabled: false })],
    });
    expect(scheduler.fireDue()).to.equal(0);
    now = Date.parse("2026-01-03T00:00:00Z");
    expect(scheduler.fireDue(), "1 and 2 January at 02:00, not the 3rd (past the end date)").to.equal(2);
    expect(fired.map((f) => f.scheduledTime.toISOString())).to.deep.equal(["2026-01-01T02:00:00.000Z", "2026-01-02T02:00:00.000Z"]);
    expect(fired[0].input).to.deep.equal({ report: "daily" });
    expect(scheduler.fireDue()).to.equal(0);
    expect(scheduler.fire("off").schedule.name).to.equal("reports-off");
    expect(() => scheduler.fire("weekly")).to.throw('No schedule "weekly": the schedules are reports-nightly, reports-off.');
  });
});
