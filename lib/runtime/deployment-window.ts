/**
 * Pure evaluation of a production deployment window (the `deploymentWindow` of a stage in
 * safe-deploy.config.json). No SDK, no clock: the caller passes `now`, so tests pin any instant,
 * including the hours around a daylight-saving change.
 */

/** Days as the configuration spells them. */
export type WindowDay = 'MON' | 'TUE' | 'WED' | 'THU' | 'FRI' | 'SAT' | 'SUN';

/** One open window: on `days`, from `start` (inclusive) to `end` (exclusive), local "HH:MM". */
export interface OpenWindow {
  readonly days: readonly WindowDay[];
  readonly start: string;
  readonly end: string;
}

/** A deployment window, structurally the same as the config schema's `DeploymentWindow`. */
export interface DeploymentWindowSpec {
  /** IANA time zone the windows and blocked dates are in. */
  readonly timeZone: string;
  /** Open windows; the stage may start inside any of them. */
  readonly windows: readonly OpenWindow[];
  /** Local dates (YYYY-MM-DD) on which no window opens. @default - none */
  readonly blockedDates?: readonly string[];
}

/** The outcome of evaluating a window at one instant. */
export interface WindowDecision {
  readonly open: boolean;
  /** One sentence that says why, with the local time it was judged at. */
  readonly reason: string;
  /** Local wall-clock time the decision used, e.g. "2026-03-29 02:30 SUN Europe/Berlin". */
  readonly localTime: string;
  /** The next instant a window opens (UTC ISO), when closed and one opens within 14 days. */
  readonly nextOpen?: string;
}

const DAY_NAMES: readonly WindowDay[] = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The local calendar date, weekday and minute-of-day of an instant in a time zone. */
export interface LocalTime {
  readonly date: string;
  readonly day: WindowDay;
  readonly minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Converts an instant to wall-clock time in `timeZone` (DST handled by the Intl database). */
export function toLocalTime(now: Date, timeZone: string): LocalTime {
  const parts = formatterFor(timeZone).formatToParts(now);
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '';
  const day = get('weekday').toUpperCase().slice(0, 3) as WindowDay;
  if (!DAY_NAMES.includes(day)) throw new Error(`cannot read the weekday of ${now.toISOString()} in ${timeZone}`);
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    day,
    minutes: Number(get('hour')) * 60 + Number(get('minute')),
  };
}

function parseHhmm(value: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!m) throw new Error(`"${value}" is not a time of day: use 24-hour "HH:MM"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function isOpenAt(spec: DeploymentWindowSpec, local: LocalTime): OpenWindow | undefined {
  if ((spec.blockedDates ?? []).includes(local.date)) return undefined;
  return spec.windows.find((w) => w.days.includes(local.day) && local.minutes >= parseHhmm(w.start) && local.minutes < parseHhmm(w.end));
}

function describe(local: LocalTime, timeZone: string): string {
  const hh = String(Math.floor(local.minutes / 60)).padStart(2, '0');
  const mm = String(local.minutes % 60).padStart(2, '0');
  return `${local.date} ${hh}:${mm} ${local.day} ${timeZone}`;
}

/**
 * Whether a production stage may start at `now`. A blocked date closes every window of that
 * local date. Times that do not exist locally (the hour skipped when clocks go forward) simply
 * never occur; a time that occurs twice (clocks going back) is open both times.
 */
export function evaluateDeploymentWindow(spec: DeploymentWindowSpec, now: Date): WindowDecision {
  const local = toLocalTime(now, spec.timeZone);
  const localTime = describe(local, spec.timeZone);
  const hit = isOpenAt(spec, local);
  if (hit) {
    return { open: true, reason: `inside the window ${hit.days.join(',')} ${hit.start}-${hit.end} (${localTime})`, localTime };
  }
  const reason = (spec.blockedDates ?? []).includes(local.date)
    ? `${local.date} is a blocked date (${localTime})`
    : `outside every deployment window (${localTime}; windows: ${spec.windows.map((w) => `${w.days.join(',')} ${w.start}-${w.end}`).join('; ')})`;
  const nextOpen = findNextOpen(spec, now);
  return { open: false, reason: nextOpen ? `${reason}; next window opens ${nextOpen}` : reason, localTime, nextOpen };
}

/** The first whole minute after `from` at which a window is open, up to 14 days ahead. */
export function findNextOpen(spec: DeploymentWindowSpec, from: Date): string | undefined {
  const start = Math.floor(from.getTime() / 60_000) * 60_000 + 60_000;
  const limit = start + 14 * 24 * 60 * 60_000;
  for (let t = start; t < limit; t += 60_000) {
    if (isOpenAt(spec, toLocalTime(new Date(t), spec.timeZone))) return new Date(t).toISOString();
  }
  return undefined;
}
