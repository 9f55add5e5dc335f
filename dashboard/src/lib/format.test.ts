import { describe, expect, it } from 'vitest';
import { centsToInput, formatBytes, formatMoney, formatMoneyShort, parseMoney } from './format';

describe('money', () => {
  it('formats integer cents as currency', () => {
    expect(formatMoney(12345)).toBe('$123.45');
    expect(formatMoney(5)).toBe('$0.05');
    expect(formatMoney(100_000_000_000)).toBe('$1,000,000,000.00');
    expect(formatMoneyShort(599_800)).toBe('$6K');
  });

  it('reads an amount into cents without floating point errors', () => {
    expect(parseMoney('123.45')).toBe(12345);
    expect(parseMoney('0.29')).toBe(29); // 0.29 * 100 is 28.999999999999996 in floating point
    expect(parseMoney('1,234.5')).toBe(123450);
    expect(parseMoney(' $7 ')).toBe(700);
    expect(parseMoney('10000000000.00')).toBe(1e12);
  });

  it('refuses what is not an amount with at most two decimals', () => {
    for (const text of ['', 'abc', '1.234', '-5', '1e3', '.5', '12.3.4']) expect(parseMoney(text), text).toBeUndefined();
  });

  it('writes cents back as the text of the input', () => {
    expect(centsToInput(12345)).toBe('123.45');
    expect(centsToInput(5)).toBe('0.05');
    expect(centsToInput(30000)).toBe('300.00');
    expect(parseMoney(centsToInput(987654321))).toBe(987654321);
  });
});

describe('file sizes', () => {
  it('in bytes, KiB or MiB, one decimal at most', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3482)).toBe('3.4 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MiB');
    expect(formatBytes(10 * 1024 * 1024 + 1)).toBe('10 MiB');
    expect(formatBytes(12.34 * 1024 * 1024)).toBe('12.3 MiB');
  });
});
