import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCHEDULE_HORIZON_DAYS, anyScheduleMatches, compileSchedule, nextScheduleMatch, type Schedule } from '../../src/security/schedule.js';

const at = (iso: string): number => Date.parse(iso);

describe('the opening of a schedule window (nextScheduleMatch)', () => {
  it('is the instant itself inside a window, else the first matching second after it', () => {
    const business = [compileSchedule('* * 8-17 * * 1-5 *')];
    // Wednesday 2026-11-25.
    assert.equal(nextScheduleMatch(business, at('2026-11-25T09:30:00Z')), at('2026-11-25T09:30:00Z'));
    assert.equal(nextScheduleMatch(business, at('2026-11-25T18:00:00Z')), at('2026-11-26T08:00:00Z'));
    // Friday evening to Monday morning.
    assert.equal(nextScheduleMatch(business, at('2026-11-27T17:59:59.500Z')), at('2026-11-30T08:00:00Z'));
  });

  it('takes the earliest of several entries, steps, and the year field', () => {
    const entries = [compileSchedule('30 */15 * * * * *'), compileSchedule('0 0 0 1 1 * 2027')];
    assert.equal(nextScheduleMatch(entries, at('2026-11-25T10:01:00Z')), at('2026-11-25T10:15:30Z'));
    assert.equal(nextScheduleMatch([compileSchedule('0 0 0 1 1 * 2027')], at('2026-11-25T10:01:00Z')), at('2027-01-01T00:00:00Z'));
  });

  it('wraps a range whose end is below its start round the field (hours 22-6, seconds 58-2), keeping its step', () => {
    const night = [compileSchedule('* * 22-6 * * * *')];
    assert.equal(anyScheduleMatches(night, at('2026-11-25T23:30:00Z')), true);
    assert.equal(anyScheduleMatches(night, at('2026-11-25T03:00:00Z')), true);
    assert.equal(anyScheduleMatches(night, at('2026-11-25T12:00:00Z')), false);
    assert.equal(nextScheduleMatch(night, at('2026-11-25T12:00:00Z')), at('2026-11-25T22:00:00Z'));
    const aroundMinute = [compileSchedule('58-2 * * * * * *')];
    assert.equal(anyScheduleMatches(aroundMinute, at('2026-11-25T12:00:59Z')), true);
    assert.equal(anyScheduleMatches(aroundMinute, at('2026-11-25T12:01:02Z')), true);
    assert.equal(anyScheduleMatches(aroundMinute, at('2026-11-25T12:01:03Z')), false);
    const everyOtherNightHour = [compileSchedule('0 0 22-6/2 * * * *')];
    assert.equal(anyScheduleMatches(everyOtherNightHour, at('2026-11-25T00:00:00Z')), true);
    assert.equal(anyScheduleMatches(everyOtherNightHour, at('2026-11-25T01:00:00Z')), false);
    // The year is no cycle.
    assert.throws(() => compileSchedule('* * * * * * 2027-2026'), /reversed in the year field/);
  });

  it('is undefined when no window opens within the horizon (a past year, 31 February)', () => {
    assert.equal(nextScheduleMatch([compileSchedule('* * * * * * 2001')], at('2026-11-25T10:00:00Z')), undefined);
    assert.equal(nextScheduleMatch([compileSchedule('* * * 31 2 * *')], at('2026-11-25T10:00:00Z')), undefined);
    assert.equal(nextScheduleMatch([], at('2026-11-25T10:00:00Z')), undefined);
  });

  it('agrees with anyScheduleMatches', () => {
    const entries = [compileSchedule('0-9 5 13 * * * *')];
    const from = at('2026-11-25T12:00:00Z');
    const opens = nextScheduleMatch(entries, from) ?? 0;
    assert.equal(opens, at('2026-11-25T13:05:00Z'));
    assert.equal(anyScheduleMatches(entries, opens), true);
    assert.equal(anyScheduleMatches(entries, opens - 1000), false);
    assert.equal(anyScheduleMatches(entries, opens + 10_000), false);
  });

  it('agrees with a walk of every day by Date, for schedules of every field (randomised, seeded)', () => {
    // The plain walk the calendar-counting search replaced: a Date for each day, then the first matching second.
    const byDate = (schedules: readonly Schedule[], fromMs: number): number | undefined => {
      const start = Math.ceil(fromMs / 1000) * 1000;
      const firstDay = Math.floor(start / 86_400_000) * 86_400_000;
      let best: number | undefined;
      for (const schedule of schedules) {
        for (let d = 0; d <= SCHEDULE_HORIZON_DAYS; d++) {
          const dayStart = firstDay + d * 86_400_000;
          const date = new Date(dayStart);
          const f = schedule;
          if (!f[6]?.(date.getUTCFullYear()) || !f[4]?.(date.getUTCMonth() + 1) || !f[3]?.(date.getUTCDate()) || !f[5]?.(date.getUTCDay())) continue;
          let found: number | undefined;
          for (let sec = Math.max(start, dayStart); sec < dayStart + 86_400_000 && found === undefined; sec += 1000) {
            if (anyScheduleMatches([schedule], sec)) found = sec;
          }
          if (found !== undefined) {
            if (best === undefined || found < best) best = found;
            break;
          }
        }
      }
      return best;
    };
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    const pick = (choices: readonly string[]): string => choices[random(choices.length)] ?? '*';
    for (let i = 0; i < 60; i++) {
      const entry = [
        pick(['*', '0', '30', '58-2']),
        pick(['*', '0', '15', '*/20']),
        pick(['*', '0', '23', '22-6/2']),
        pick(['*', '1', '29', '30', '31', '13', '1-7']),
        pick(['*', '2', '4', '2,12', '11-1']),
        pick(['*', '0', '5', '1-5', '6']),
        pick(['*', '*', '2027', '2028-2029', '2001', '2026']),
      ].join(' ');
      const from = Date.UTC(2026, random(12), 1 + random(28), random(24), random(60), random(60)) + random(1000);
      assert.equal(nextScheduleMatch([compileSchedule(entry)], from), byDate([compileSchedule(entry)], from), `${entry} from ${new Date(from).toISOString()}`);
    }
  });
});
