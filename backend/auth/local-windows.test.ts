import { describe, expect, it } from 'vitest';
import { LocalWindows } from './local-windows.js';

describe('counting in this process while Redis is away', () => {
  it('counts in a window from the first count, gives counts back, and forgets a window that ended', () => {
    const windows = new LocalWindows(1_000);
    expect(windows.peek('k', 0)).toEqual([0, -2]);
    expect(windows.add('k', 0)).toEqual([1, 1_000]);
    expect(windows.add('k', 400)).toEqual([2, 600]);
    windows.giveBack('k');
    expect(windows.peek('k', 500)).toEqual([1, 500]);
    expect(windows.add('k', 1_000)).toEqual([1, 1_000]);
    windows.delete('k');
    windows.giveBack('k');
    expect(windows.peek('k', 1_100)).toEqual([0, -2]);
  });

  it('holds at most its number of keys: ended windows go first, then the oldest', () => {
    const windows = new LocalWindows(1_000, 2);
    windows.add('a', 0);
    windows.add('b', 900);
    windows.add('c', 1_000); // a's window has ended: it makes room
    expect(windows.peek('b', 1_000)[0]).toBe(1);
    windows.add('d', 1_100); // all live: the oldest (b) goes
    expect(windows.peek('b', 1_100)).toEqual([0, -2]);
    expect(windows.peek('c', 1_100)[0]).toBe(1);
    expect(windows.peek('d', 1_100)[0]).toBe(1);
  });
});
