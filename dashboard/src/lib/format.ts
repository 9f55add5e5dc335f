/*
 * Money is an integer count of cents everywhere; it becomes a decimal string only here, for
 * display and input. Locale: the browser's; currency: one, for the whole business.
 */

export const CURRENCY = 'USD';

const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: CURRENCY });
const moneyShort = new Intl.NumberFormat(undefined, { style: 'currency', currency: CURRENCY, notation: 'compact' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const count = new Intl.NumberFormat();

export const formatMoney = (cents: number) => money.format(cents / 100);
/** For chart axes: "$6K", "$1.2M". */
export const formatMoneyShort = (cents: number) => moneyShort.format(cents / 100);
export const formatCount = (n: number) => count.format(n);
/** A file size: "512 B", "3.4 KiB", "10 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [size, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / 1024 / 1024, 'MiB'];
  return `${Number(size.toFixed(1))} ${unit}`;
}
export const formatDateTime = (iso: string) => (iso ? dateTime.format(new Date(iso)) : '');
/** A stats day (`YYYY-MM-DD`, UTC) as "Mar 5". */
export const formatDay = (isoDay: string) => day.format(new Date(`${isoDay}T00:00:00Z`));

/** Cents as the text of a money input: 12345 → "123.45". */
export const centsToInput = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/**
 * The text of a money input as cents, without floating point: "1,234.5" → 123450. Undefined when
 * it is not an amount with at most two decimals.
 */
export function parseMoney(text: string): number | undefined {
  const match = /^(\d{1,13})(?:\.(\d{0,2}))?$/.exec(
    text
      .trim()
      .replace(/[\s,_]/g, '')
      .replace(/^\$/, ''),
  );
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}
