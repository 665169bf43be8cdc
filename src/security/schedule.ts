// accessControlWindow: the extended crontab of TS-0004 §7.4.9.1 (table 7.4.9.1-4), evaluated in UTC.
// Seven fields: second minute hour day-of-month month day-of-week(0=Sunday) year. Each field is `*` or a
// comma list of `n`, `a-b`, `a-b/s` or `*/s`. All fields must match (day-of-month AND day-of-week, the
// literal reading of the spec, as ACME does).
// A range whose end is below its start wraps round a cyclic field: hours `22-6` are the night, seconds `58-2` the
// five seconds around a full minute. TS-0004 table 7.4.9.1-4 defines a range as "two numbers separated by a hyphen"
// and says nothing of the order; read literally such a range holds no value (ACME accepts it and never matches it),
// which no author means. The year is not cyclic: a reversed year range is refused.

interface FieldRange {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

const FIELDS: readonly FieldRange[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 6 },
  // Any four-digit year is valid: a year that has passed simply never matches again (as ACME reads it).
  { name: 'year', min: 0, max: 9999 },
];

/** A compiled window: one membership test per field. */
export type Schedule = readonly ((value: number) => boolean)[];

const NUMBER = /^\d{1,4}$/;

/**
 * Bounds on one window, checked when a policy is written. Windows are evaluated on every decision that reaches
 * their rule, for every originator, so what an author writes must stay cheap to test: a field is a short list,
 * and each field becomes a table (or, for the year, a few ranges) when the policy is compiled.
 */
export const WINDOW_LIMITS = { characters: 512, elementsPerField: 32 } as const;

function parseNumber(text: string, field: FieldRange): number {
  if (!NUMBER.test(text)) throw new Error(`'${text}' is not a number in the ${field.name} field`);
  const n = Number(text);
  if (n < field.min || n > field.max) throw new Error(`${n} is outside ${field.min}-${field.max} in the ${field.name} field`);
  return n;
}

/** Fields with at most this many values are compiled into a lookup table. */
const TABLE_SPAN = 64;

function compileField(text: string, field: FieldRange): (value: number) => boolean {
  if (text === '*') return () => true;
  const elements = text.split(',');
  if (elements.length > WINDOW_LIMITS.elementsPerField) {
    throw new Error(`the ${field.name} field has ${elements.length} elements; at most ${WINDOW_LIMITS.elementsPerField} are allowed (use ranges)`);
  }
  const parts: Array<{ from: number; to: number; step: number }> = [];
  for (const element of elements) {
    const [rangeText, stepText, extra] = element.split('/');
    if (rangeText === undefined || extra !== undefined) throw new Error(`'${element}' is not a valid ${field.name} element`);
    const step = stepText === undefined ? 1 : parseNumber(stepText, { ...field, min: 1, max: 9999 });
    let from: number;
    let to: number;
    if (rangeText === '*') {
      if (stepText === undefined) throw new Error(`'*' cannot be part of a list in the ${field.name} field`);
      from = field.min;
      to = field.max;
    } else if (rangeText.includes('-')) {
      const [a, b, more] = rangeText.split('-');
      if (a === undefined || b === undefined || more !== undefined) throw new Error(`'${rangeText}' is not a valid range in the ${field.name} field`);
      from = parseNumber(a, field);
      to = parseNumber(b, field);
      if (from > to && field.max - field.min >= TABLE_SPAN) throw new Error(`range ${from}-${to} is reversed in the ${field.name} field`);
    } else {
      if (stepText !== undefined) throw new Error(`a step needs a range or '*' in the ${field.name} field`);
      from = to = parseNumber(rangeText, field);
    }
    parts.push({ from, to, step });
  }
  if (field.max - field.min < TABLE_SPAN) {
    // At most 32 elements over at most 64 values: a table filled once, one lookup per test.
    const table = new Uint8Array(field.max - field.min + 1);
    const size = field.max - field.min + 1;
    for (const p of parts) {
      // Counted from `from` round the cycle, so that a wrapping range keeps its step across the wrap (22-6/2: 22, 0, 2 …).
      const span = (((p.to - p.from) % size) + size) % size;
      for (let k = 0; k <= span; k += p.step) table[((p.from - field.min + k) % size)] = 1;
    }
    return (value) => table[value - field.min] === 1;
  }
  return (value) => parts.some((p) => value >= p.from && value <= p.to && (value - p.from) % p.step === 0);
}

/**
 * Compiled fields by field and text, shared by every window that writes the same field the same way: windows differ
 * in a field or two (a policy's sixteen windows, a schedule's entries), and each compiled field holds a table and a
 * closure. Without sharing, a policy of a few thousand windows compiled to 20 MB (found by a probe of time inputs).
 */
const compiledFields = new Map<string, (value: number) => boolean>();
const COMPILED_FIELDS_KEPT = 8_192;

/** Compiles one schedule entry; throws an Error naming the field and the problem. */
export function compileSchedule(entry: string): Schedule {
  if (entry.length > WINDOW_LIMITS.characters) throw new Error(`the window has ${entry.length} characters; at most ${WINDOW_LIMITS.characters} are allowed`);
  const fields = entry.trim().split(/\s+/);
  if (fields.length !== FIELDS.length) throw new Error(`'${entry}' has ${fields.length} fields, expected 7 (second minute hour day month weekday year)`);
  return fields.map((text, i) => {
    const key = `${i} ${text}`;
    let test = compiledFields.get(key);
    if (test === undefined) {
      test = compileField(text, FIELDS[i] as FieldRange);
      if (compiledFields.size >= COMPILED_FIELDS_KEPT) compiledFields.clear();
      compiledFields.set(key, test);
    }
    return test;
  });
}

/** An instant as the seven schedule fields, computed once per decision, plus the instant itself. */
export type TimeFields = readonly number[] & { readonly epochMs: number };

export function timeFields(epochMs: number): TimeFields {
  const d = new Date(epochMs);
  const fields = [d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours(), d.getUTCDate(), d.getUTCMonth() + 1, d.getUTCDay(), d.getUTCFullYear()];
  return Object.assign(fields, { epochMs });
}

export function scheduleMatches(schedule: Schedule, time: TimeFields): boolean {
  return schedule.every((test, i) => test(time[i] as number));
}

/** Whether any of the schedules matches the instant (a list of entries is a union of windows). */
export function anyScheduleMatches(schedules: readonly Schedule[], epochMs: number): boolean {
  const time = timeFields(epochMs);
  return schedules.some((schedule) => scheduleMatches(schedule, time));
}

const DAY_MS = 86_400_000;
/** How far ahead a window's opening is looked for: beyond it, the caller looks again then. */
export const SCHEDULE_HORIZON_DAYS = 4 * 366;

/**
 * The first whole second at or after `fromMs` at which one of the schedules matches, or undefined when none does
 * within SCHEDULE_HORIZON_DAYS. The calendar is walked by counting (no Date per day), a year or a month whose field
 * does not match is stepped over whole, and the hours, minutes and seconds of a matching day are searched last:
 * every field accepts at least one value, so a matching day is searched in at most 24 + 60 + 60 steps. A schedule
 * that never opens (31 February) costs a few hundred steps, not a Date for each of 1 464 days: it is asked at every
 * notification a subscription holds (found by a probe: 32 such entries on 1 200 subscriptions, 3.3 s per event).
 */
export function nextScheduleMatch(schedules: readonly Schedule[], fromMs: number): number | undefined {
  const start = Math.ceil(fromMs / 1000) * 1000;
  const firstDay = Math.floor(start / DAY_MS) * DAY_MS;
  const lastDay = firstDay + SCHEDULE_HORIZON_DAYS * DAY_MS;
  const first = new Date(firstDay);
  let best: number | undefined;
  for (const schedule of schedules) {
    const [second, minute, hour, day, month, weekday, year] = schedule as [
      (v: number) => boolean, (v: number) => boolean, (v: number) => boolean, (v: number) => boolean,
      (v: number) => boolean, (v: number) => boolean, (v: number) => boolean,
    ];
    let y = first.getUTCFullYear();
    let m = first.getUTCMonth();
    let d = first.getUTCDate();
    let dayStart = firstDay;
    while (dayStart <= lastDay && (best === undefined || dayStart <= best)) {
      if (!year(y)) {
        y++;
        m = 0;
        d = 1;
        dayStart = Date.UTC(y, 0, 1);
        continue;
      }
      if (!month(m + 1)) {
        m++;
        if (m === 12) {
          m = 0;
          y++;
        }
        d = 1;
        dayStart = Date.UTC(y, m, 1);
        continue;
      }
      // 1 January 1970 was a Thursday (4).
      if (day(d) && weekday((Math.floor(dayStart / DAY_MS) + 4) % 7)) {
        const found = firstSecondOfDay(dayStart, Math.max(start, dayStart), hour, minute, second);
        if (found !== undefined) {
          if (best === undefined || found < best) best = found;
          break;
        }
      }
      dayStart += DAY_MS;
      d++;
      if (d > daysInMonth(y, m)) {
        d = 1;
        m++;
        if (m === 12) {
          m = 0;
          y++;
        }
      }
    }
  }
  return best;
}

function daysInMonth(year: number, month: number): number {
  return month === 1 ? ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month] ?? 31;
}

function firstSecondOfDay(dayStart: number, notBefore: number, hour: (v: number) => boolean, minute: (v: number) => boolean, second: (v: number) => boolean): number | undefined {
  for (let h = 0; h < 24; h++) {
    if (!hour(h) || dayStart + (h + 1) * 3_600_000 <= notBefore) continue;
    for (let m = 0; m < 60; m++) {
      const minuteStart = dayStart + h * 3_600_000 + m * 60_000;
      if (!minute(m) || minuteStart + 60_000 <= notBefore) continue;
      for (let s = 0; s < 60; s++) {
        const at = minuteStart + s * 1000;
        if (at >= notBefore && second(s)) return at;
      }
    }
  }
  return undefined;
}
