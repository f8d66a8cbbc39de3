/**
 * EventBridge Scheduler, locally: each enabled schedule of the program fires on its
 * expression, `rate(value unit)`, `cron(minutes hours day-of-month month day-of-week
 * year)` (AWS's six fields, with `?`, `L`, `W` and `#`, in `scheduleExpressionTimezone`)
 * or `at(yyyy-mm-ddThh:mm:ss)`, within its start and end dates. Cron expressions are
 * evaluated by croner, through a thin adapter: AWS's fields with a seconds field of 0 in
 * front, Quartz's weekday numbers (1 is Sunday), and `n/step` read as `n-last/step`.
 *
 * A firing hands the target's input (`{}` without one) to the target function's
 * asynchronous invocation, as the Scheduler invokes Lambda; the function's failures take
 * the function's own retry path. The Scheduler's retry policy and dead-letter queue
 * cover what it could not deliver: a target that is not a function of the program goes to
 * the DLQ with the Scheduler's error attributes. `rate` schedules fire first one interval
 * after the runtime (or the schedule's start date) begins. Flexible time windows are not
 * emulated (every schedule fires on time). `fire(name)` fires one now, for
 * `npm run dev -- fire <schedule>`, through a small control endpoint on loopback.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { Cron } from "croner";
import type { ScheduleModel } from "./async-model";
import type { Clock } from "./async-invoke";
import { systemClock } from "./async-invoke";
import { closeServer, listen } from "./loopback";

const RATE = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;
const AT = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** AWS's cron fields and the last value of each, for `n/step`. */
const CRON_FIELDS = [["minutes", 59], ["hours", 23], ["day-of-month", 31], ["month", 12], ["day-of-week", 7], ["year", 2199]] as const;

export interface Expression {
  /** The first firing strictly after `after`, or undefined when there is none. */
  next(after: Date): Date | undefined;
}

/** Parses a schedule expression; throws an error naming the schedule, the expression and the forms allowed. */
export function parseScheduleExpression(expression: string, timezone = "UTC", start?: Date): Expression {
  const fail = (why: string) => new Error(`Schedule expression ${JSON.stringify(expression)}: ${why}. Use rate(<n> minutes|hours|days), cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or at(yyyy-mm-ddThh:mm:ss).`);
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2].replace(/s$/, "");
    if (value < 1) throw fail("a rate must be at least 1");
    if ((value === 1) !== !rate[2].endsWith("s")) throw fail(`say "${value} ${value === 1 ? unit : `${unit}s`}"`);
    const period = value * UNIT_MS[unit];
    const origin = start ?? new Date();
    return { next: (after) => new Date(origin.getTime() + (Math.floor(Math.max(0, after.getTime() - origin.getTime()) / period) + 1) * period) };
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== CRON_FIELDS.length) throw fail(`cron takes ${CRON_FIELDS.length} fields (${CRON_FIELDS.map(([name]) => name).join(" ")}), got ${fields.length}`);
    if ((fields[2] === "?") === (fields[4] === "?")) throw fail("one of day-of-month and day-of-week must be ?, and only one");
    const adapted = fields.map((field, i) => field.replace(/^(\d+)\/(\d+)$/, `$1-${CRON_FIELDS[i][1]}/$2`));
    let job: Cron;
    try {
      job = new Cron(`0 ${adapted.join(" ")}`, { mode: "7-part", alternativeWeekdays: true, timezone, paused: true });
    } catch (error) {
      throw fail((error as Error).message);
    }
    return { next: (after) => job.nextRun(after) ?? undefined };
  }
  const at = AT.exec(expression);
  if (at) {
    const job = new Cron(at[1], { timezone, paused: true });
    return { next: (after) => job.nextRun(after) ?? undefined };
  }
  throw fail("not a rate, cron or at expression");
}

export interface ScheduleFiring {
  schedule: ScheduleModel;
  /** The Scheduler's execution id, as its DLQ messages carry it. */
  executionId: string;
  scheduledTime: Date;
  /** What the target receives. */
  input: unknown;
}

export interface LocalSchedulerOptions {
  schedules: ScheduleModel[];
  fire: (firing: ScheduleFiring) => void;
  clock?: Clock;
  log?: (line: string) => void;
}

export class LocalScheduler {
  private readonly clock: Clock;
  private readonly entries: Array<{ schedule: ScheduleModel; expression: Expression; nextAt?: Date }>;
  private timer?: NodeJS.Timeout;
  private server?: Server;
  endpoint = "";

  constructor(private readonly options: LocalSchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    const now = new Date(this.clock.now());
    this.entries = options.schedules.map((schedule) => {
      const start = schedule.startDate ? new Date(schedule.startDate) : undefined;
      const expression = parseScheduleExpression(schedule.expression, schedule.timezone, start && start > now ? start : now);
      return { schedule, expression, nextAt: this.nextFor(schedule, expression, now) };
    });
  }

  /** When each schedule fires next (undefined: never again, or disabled). */
  nextFirings(): Array<{ name: string; expression: string; next?: Date }> {
    return this.entries.map((e) => ({ name: e.schedule.name, expression: e.schedule.expression, next: e.nextAt }));
  }

  /** Fires every schedule due at the clock's time, once each, and plans its next firing. */
  fireDue(): number {
    const now = new Date(this.clock.now());
    let fired = 0;
    for (const entry of this.entries) {
      while (entry.nextAt && entry.nextAt <= now) {
        this.dispatch(entry.schedule, entry.nextAt);
        fired += 1;
        entry.nextAt = this.nextFor(entry.schedule, entry.expression, entry.nextAt);
      }
    }
    return fired;
  }

  /** Fires a schedule now, whatever its expression (`npm run dev -- fire <schedule>`). */
  fire(name: string): ScheduleFiring {
    const entry = findSchedule(this.entries.map((e) => e.schedule), name);
    return this.dispatch(entry, new Date(this.clock.now()));
  }

  /** Fires schedules on the system clock, and serves `POST /schedules/<name>/fire` on loopback. */
  async start(port = 0): Promise<string> {
    this.plan();
    this.server = createServer((request, response) => {
      const match = /^\/schedules\/([^/]+)\/fire$/.exec(request.url ?? "");
      request.resume();
      const answer = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        response.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
        response.end(text);
      };
      if (request.method !== "POST" || !match) return answer(404, { message: "POST /schedules/<name>/fire" });
      try {
        const firing = this.fire(decodeURIComponent(match[1]));
        answer(200, { schedule: firing.schedule.name, executionId: firing.executionId, target: firing.schedule.target.arn });
      } catch (error) {
        answer(404, { message: (error as Error).message });
      }
    });
    this.endpoint = await listen(this.server, port);
    return this.endpoint;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (this.server) await closeServer(this.server);
  }

  private plan(): void {
    const nextTimes = this.entries.flatMap((e) => (e.nextAt ? [e.nextAt.getTime()] : []));
    if (nextTimes.length === 0) return;
    // setTimeout holds at most about 24.8 days; a later firing is planned again when that wait ends.
    const wait = Math.min(Math.max(0, Math.min(...nextTimes) - this.clock.now()), 2 ** 31 - 1);
    this.timer = setTimeout(() => {
      this.fireDue();
      this.plan();
    }, wait);
    this.timer.unref();
  }

  private nextFor(schedule: ScheduleModel, expression: Expression, after: Date): Date | undefined {
    if (!schedule.enabled) return undefined;
    const start = schedule.startDate ? new Date(schedule.startDate) : undefined;
    let next = expression.next(start && start > after ? new Date(start.getTime() - 1) : after);
    if (next && schedule.endDate && next > new Date(schedule.endDate)) next = undefined;
    return next;
  }

  private dispatch(schedule: ScheduleModel, scheduledTime: Date): ScheduleFiring {
    const firing: ScheduleFiring = {
      schedule, scheduledTime, executionId: randomUUID(),
      input: schedule.target.input !== undefined ? JSON.parse(schedule.target.input) : {},
    };
    this.options.log?.(`SCHEDULE ${schedule.name} (${schedule.expression}${schedule.timezone !== "UTC" ? `, ${schedule.timezone}` : ""}) fired for ${scheduledTime.toISOString()} -> ${schedule.target.arn}`);
    this.options.fire(firing);
    return firing;
  }
}

/** The schedule a name gives: its whole name, or the end of it after a dash. */
export function findSchedule(schedules: ScheduleModel[], name: string): ScheduleModel {
  const exact = schedules.find((s) => s.name === name || s.scheduleName === name);
  if (exact) return exact;
  const matches = schedules.filter((s) => s.name.endsWith(`-${name}`));
  if (matches.length === 1) return matches[0];
  const names = schedules.map((s) => s.name).join(", ") || "none";
  throw new Error(matches.length === 0 ? `No schedule "${name}": the schedules are ${names}.` : `"${name}" names ${matches.length} schedules (${matches.map((s) => s.name).join(", ")}); give the whole name.`);
}
