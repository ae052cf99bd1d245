import { evaluateDeploymentWindow, DeploymentWindowSpec, toLocalTime } from '../../lib/runtime/deployment-window';

const weekdays: DeploymentWindowSpec['windows'][number]['days'] = ['MON', 'TUE', 'WED', 'THU', 'FRI'];
const at = (iso: string) => new Date(iso);

describe('evaluateDeploymentWindow', () => {
  const utc: DeploymentWindowSpec = { timeZone: 'UTC', windows: [{ days: weekdays, start: '09:00', end: '17:00' }] };

  test('open inside a UTC window, start inclusive', () => {
    const d = evaluateDeploymentWindow(utc, at('2026-06-03T09:00:00Z'));
    expect(d).toEqual({
      open: true,
      reason: 'inside the window MON,TUE,WED,THU,FRI 09:00-17:00 (2026-06-03 09:00 WED UTC)',
      localTime: '2026-06-03 09:00 WED UTC',
    });
  });

  test('closed at the end minute (end exclusive) and says when it opens next', () => {
    const d = evaluateDeploymentWindow(utc, at('2026-06-03T17:00:00Z'));
    expect(d.open).toBe(false);
    expect(d.nextOpen).toBe('2026-06-04T09:00:00.000Z');
    expect(d.reason).toBe(
      'outside every deployment window (2026-06-03 17:00 WED UTC; windows: MON,TUE,WED,THU,FRI 09:00-17:00); next window opens 2026-06-04T09:00:00.000Z',
    );
  });

  test('closed on a Saturday; next opening is Monday', () => {
    const d = evaluateDeploymentWindow(utc, at('2026-06-06T12:00:00Z'));
    expect(d.open).toBe(false);
    expect(d.nextOpen).toBe('2026-06-08T09:00:00.000Z');
  });

  describe('America/New_York follows daylight saving time', () => {
    const ny: DeploymentWindowSpec = { timeZone: 'America/New_York', windows: [{ days: weekdays, start: '09:00', end: '17:00' }] };
    test('winter (EST, UTC-5): 14:30Z is 09:30 local, open', () => {
      expect(evaluateDeploymentWindow(ny, at('2026-01-14T14:30:00Z')).open).toBe(true);
    });
    test('winter: 13:30Z is 08:30 local, closed until 14:00Z', () => {
      const d = evaluateDeploymentWindow(ny, at('2026-01-14T13:30:00Z'));
      expect(d.open).toBe(false);
      expect(d.localTime).toBe('2026-01-14 08:30 WED America/New_York');
      expect(d.nextOpen).toBe('2026-01-14T14:00:00.000Z');
    });
    test('summer (EDT, UTC-4): 13:30Z is 09:30 local, open', () => {
      expect(evaluateDeploymentWindow(ny, at('2026-07-15T13:30:00Z')).open).toBe(true);
    });
  });

  describe('Europe/Berlin DST transitions', () => {
    test('spring forward: a 02:00-03:00 window on the changeover Sunday never occurs', () => {
      const spec: DeploymentWindowSpec = { timeZone: 'Europe/Berlin', windows: [{ days: ['SUN'], start: '02:00', end: '03:00' }] };
      // 00:59Z is 01:59 CET; one minute later it is 03:00 CEST.
      expect(toLocalTime(at('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toEqual({ date: '2026-03-29', day: 'SUN', minutes: 180 });
      const d = evaluateDeploymentWindow(spec, at('2026-03-29T00:59:00Z'));
      expect(d.open).toBe(false);
      // Next Sunday 02:00 CEST = 00:00Z.
      expect(d.nextOpen).toBe('2026-04-05T00:00:00.000Z');
    });
    test('fall back: 02:15 local happens twice and is open both times', () => {
      const spec: DeploymentWindowSpec = { timeZone: 'Europe/Berlin', windows: [{ days: ['SUN'], start: '02:00', end: '02:30' }] };
      expect(evaluateDeploymentWindow(spec, at('2026-10-25T00:15:00Z')).open).toBe(true); // 02:15 CEST
      expect(evaluateDeploymentWindow(spec, at('2026-10-25T01:15:00Z')).open).toBe(true); // 02:15 CET
      expect(evaluateDeploymentWindow(spec, at('2026-10-25T01:45:00Z')).open).toBe(false); // 02:45 CET
    });
  });

  describe('blocked dates', () => {
    const spec: DeploymentWindowSpec = {
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'], start: '00:00', end: '23:59' }],
      blockedDates: ['2026-12-25'],
    };
    test('a blocked local date closes the window and names the date', () => {
      const d = evaluateDeploymentWindow(spec, at('2026-12-25T09:00:00Z'));
      expect(d.open).toBe(false);
      expect(d.reason).toBe(
        '2026-12-25 is a blocked date (2026-12-25 10:00 FRI Europe/Berlin); next window opens 2026-12-25T23:00:00.000Z',
      );
    });
    test('the blocked date is the local one: 23:30Z on the 24th is already the 25th in Berlin', () => {
      expect(evaluateDeploymentWindow(spec, at('2026-12-24T23:30:00Z')).open).toBe(false);
      expect(evaluateDeploymentWindow(spec, at('2026-12-24T22:30:00Z')).open).toBe(true);
    });
  });

  test('no window within 14 days: no nextOpen', () => {
    const spec: DeploymentWindowSpec = {
      timeZone: 'UTC',
      windows: [{ days: ['MON'], start: '09:00', end: '10:00' }],
      blockedDates: ['2026-06-08', '2026-06-15'],
    };
    const d = evaluateDeploymentWindow(spec, at('2026-06-06T12:00:00Z'));
    expect(d.open).toBe(false);
    expect(d.nextOpen).toBeUndefined();
  });
});
