import { describe, expect, it } from 'vitest';
import { clockFor, clockOf, clockSettingProblem, fixedClock, systemClock } from './clock.ts';
import { loadConfig } from './config.ts';
import { yesterdayUtc } from './lake.ts';

const REAL = Date.parse('2026-12-04T19:00:00.000Z');

describe('clock', () => {
  it('shifts real time by an offset, so every process with the setting agrees', () => {
    const ahead = clockFor('+365d');
    const back = clockFor('-12h');
    const before = Date.now();
    const a = ahead.nowMs();
    const b = back.nowMs();
    const after = Date.now();
    expect(a).toBeGreaterThanOrEqual(before + 365 * 86_400_000);
    expect(a).toBeLessThanOrEqual(after + 365 * 86_400_000);
    expect(b).toBeGreaterThanOrEqual(before - 12 * 3_600_000);
    expect(b).toBeLessThanOrEqual(after - 12 * 3_600_000);
    expect(clockFor('+90m', REAL).nowMs() - Date.now()).toBeGreaterThan(90 * 60_000 - 1_000);
  });

  it('starts at an instant and runs on at the real rate', async () => {
    const clock = clockFor('2030-01-15T08:00:00Z', Date.now());
    const first = clock.nowMs();
    expect(first - Date.parse('2030-01-15T08:00:00Z')).toBeLessThan(1_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(clock.nowMs()).toBeGreaterThan(first); // durations measured on it stay real
    expect(clockFor('2030-01-15', REAL).todayUtc()).toBe('2030-01-15');
  });

  it('is real time without a setting', () => {
    expect(clockFor(undefined)).toBe(systemClock);
    expect(clockFor('  ')).toBe(systemClock);
    expect(Math.abs(systemClock.nowMs() - Date.now())).toBeLessThan(1_000);
  });

  it('names what is wrong with a bad setting', () => {
    expect(clockSettingProblem('+365d')).toBeNull();
    expect(clockSettingProblem('2027-02-29')).toMatch(/not a calendar date/);
    expect(clockSettingProblem('2027-01-01T00:00:00')).toMatch(/ISO instant with a zone/); // zone-less: ambiguous
    expect(clockSettingProblem('next tuesday')).toMatch(/expected an offset/);
    expect(() => clockFor('365d')).toThrow(/clock setting/);
  });

  it('is read from DEALFINDER_NOW or clock.now, and a bad value is a config error', () => {
    const config = loadConfig({ env: { DEALFINDER_NOW: '2031-06-01T00:00:00Z' }, cwd: '/nonexistent' });
    expect(config.clock.now).toBe('2031-06-01T00:00:00Z');
    expect(clockOf(config).todayUtc()).toBe('2031-06-01');
    expect(clockOf(config)).toBe(clockOf(config)); // one clock per config: an instant is anchored once
    expect(yesterdayUtc(clockOf(config))).toBe('2031-05-31');
    expect(() => loadConfig({ env: { DEALFINDER_NOW: 'soon' }, cwd: '/nonexistent' })).toThrow(
      /clock\.now.*expected an offset/,
    );
    const flags = loadConfig({
      env: { DEALFINDER_NOW: '+1d' },
      overrides: { clock: { now: '2020-02-02' } },
      cwd: '/x',
    });
    expect(clockOf(flags).todayUtc()).toBe('2020-02-02'); // flags over environment
  });

  it('can stand still for code that takes a clock', () => {
    const c = fixedClock('2026-11-22T10:00:00Z');
    expect(c.now().toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(yesterdayUtc(c)).toBe('2026-11-21');
  });
});
