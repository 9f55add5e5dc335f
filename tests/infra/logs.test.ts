import { logFormatFrom, prettyLogLine, Supervisor } from '@pdash/scripts/supervisor';
import { describe, expect, test } from 'vitest';

/* `npm start` shows one readable line per log record on a terminal; JSON stays JSON elsewhere. */

describe('LOG_FORMAT', () => {
  test('pretty on a terminal, JSON otherwise, and either when asked; anything else is refused by name', () => {
    expect(logFormatFrom({}, true)).toBe('pretty');
    expect(logFormatFrom({}, false)).toBe('json');
    expect(logFormatFrom({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormatFrom({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(() => logFormatFrom({ LOG_FORMAT: 'yaml' }, true)).toThrow('LOG_FORMAT must be json or pretty, not "yaml"');
  });
});

describe('a readable line per record', () => {
  const record = { level: 30, time: Date.UTC(2026, 0, 2, 3, 4, 5, 678), pid: 1, hostname: 'h', service: 'orders', msg: 'orders listening' };

  test('time, level, message, then the fields that say something', () => {
    expect(prettyLogLine(JSON.stringify({ ...record, port: 50053, host: '127.0.0.1' }))).toBe(
      '03:04:05.678 INFO  orders listening port=50053 host=127.0.0.1',
    );
    expect(prettyLogLine(JSON.stringify({ ...record, level: 50, msg: 'call failed', err: { message: 'boom', stack: 'at x' } }))).toBe(
      '03:04:05.678 ERROR call failed err="boom"',
    );
  });

  test('a line that is not a log record passes as it is', () => {
    for (const line of ['plain text', '{not json', '[1,2]', '{"a":1}']) expect(prettyLogLine(line)).toBe(line);
  });

  test('the supervisor joins a record split across writes, and prefixes it with the process', async () => {
    const lines: string[] = [];
    const supervisor = new Supervisor((line) => lines.push(line), 'pretty');
    const half = JSON.stringify({ ...record, msg: 'split record', part: 2 });
    const script = `process.stdout.write(${JSON.stringify(half.slice(0, 20))}); setTimeout(() => process.stdout.write(${JSON.stringify(`${half.slice(20)}\n`)}), 50);`;
    await supervisor.start({ name: 'child', command: process.execPath, args: ['-e', script] });
    await expect.poll(() => lines.find((line) => line.includes('split record'))).toBeDefined();
    await supervisor.stopAll();
    const line = lines.find((l) => l.includes('split record'))!;
    expect(line.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/^child\s+\| 03:04:05\.678 INFO {2}split record part=2$/);
  });
});
