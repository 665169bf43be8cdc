import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyScheduleMatches, compileSchedule, nextScheduleMatch } from '../../src/security/schedule.js';

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
});
