import { WEEK_DAYS, type WeekDay } from './config.js';

/** A wall-clock moment repeated on some days of the week, in the schedule's time zone. */
export interface WeeklyTime {
  readonly hour: number;
  readonly minute: number;
  readonly days: readonly WeekDay[];
}

export interface ServiceScheduleTimes {
  /** Tasks scale up (min 1). */
  readonly tasksUp: WeeklyTime;
  /** Tasks scale to zero. */
  readonly tasksDown: WeeklyTime;
  /** The proxy/NAT instance starts, `leadMinutes` before `tasksUp`. */
  readonly instanceStart: WeeklyTime;
  /** The instance stops, `lagMinutes` after `tasksDown`. */
  readonly instanceStop: WeeklyTime;
}

export interface ScheduleInput {
  readonly start: string;
  readonly end: string;
  readonly days: readonly WeekDay[];
  readonly instanceLeadMinutes: number;
  readonly instanceLagMinutes: number;
}

const MINUTES_PER_DAY = 24 * 60;

function parseHhmm(value: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(value);
  if (!m) throw new Error(`Expected "HH:MM", got "${value}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Shifts a weekly time by `deltaMinutes`; crossing midnight moves every day with it (MON 00:05 - 10 min = SUN 23:55). */
export function shiftWeeklyTime(
  minuteOfDay: number,
  days: readonly WeekDay[],
  deltaMinutes: number,
): WeeklyTime {
  const total = minuteOfDay + deltaMinutes;
  const dayShift = Math.floor(total / MINUTES_PER_DAY);
  const inDay = total - dayShift * MINUTES_PER_DAY;
  const shifted = days.map((d) => WEEK_DAYS[(((WEEK_DAYS.indexOf(d) + dayShift) % 7) + 7) % 7] as WeekDay);
  const ordered = WEEK_DAYS.filter((d) => shifted.includes(d));
  return { hour: Math.floor(inDay / 60), minute: inDay % 60, days: ordered };
}

/** Computes when tasks and the instance start and stop so the NAT is up whenever a task runs. */
export function computeScheduleTimes(s: ScheduleInput): ServiceScheduleTimes {
  const start = parseHhmm(s.start);
  const end = parseHhmm(s.end);
  if (end <= start) throw new Error(`Schedule end ${s.end} must be after start ${s.start}`);
  return {
    tasksUp: shiftWeeklyTime(start, s.days, 0),
    tasksDown: shiftWeeklyTime(end, s.days, 0),
    instanceStart: shiftWeeklyTime(start, s.days, -s.instanceLeadMinutes),
    instanceStop: shiftWeeklyTime(end, s.days, s.instanceLagMinutes),
  };
}

/** The day-of-week field of a cron expression (`MON,TUE,…`), or undefined for every day (cron then uses `*`/`?`). */
export function cronDays(days: readonly WeekDay[]): string | undefined {
  return days.length === 7 ? undefined : days.join(',');
}

/** Hours per active day, given start and end "HH:MM". */
export function activeHoursPerDay(start: string, end: string): number {
  return (parseHhmm(end) - parseHhmm(start)) / 60;
}
