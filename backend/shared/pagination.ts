import { CURSOR } from '@pdash/contracts';
import { ObjectId } from 'mongodb';
import { invalidArgument } from './errors.js';

/**
 * Cursor pagination, newest first, stable under inserts: the cursor is the (createdAt, _id) of
 * the last record of a page, and the next page is everything strictly older in that order.
 */
export interface CursorPosition {
  createdAt: Date;
  _id: ObjectId;
}

/** `<ms>_<24 hex>` (@pdash/contracts' CURSOR): a position, not a secret; any well-formed one pages from there. */
export function encodeCursor(last: CursorPosition): string {
  return `${last.createdAt.getTime()}_${last._id.toHexString()}`;
}

export function decodeCursor(cursor: string): CursorPosition {
  const match = CURSOR.exec(cursor);
  if (!match?.[1] || !match[2]) throw invalidArgument('cursor', 'is not a cursor this service made');
  return { createdAt: new Date(Number(match[1])), _id: ObjectId.createFromHexString(match[2]) };
}

/**
 * A page of a list read with `limit + 1` documents: the first `limit`, and the cursor after them
 * when the extra one says there are more.
 */
export function toPage<D extends CursorPosition, T>(docs: D[], limit: number, map: (doc: D) => T): { items: T[]; nextCursor?: string } {
  const page = docs.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(map), nextCursor: docs.length > limit && last ? encodeCursor(last) : undefined };
}

/** Records after `after` in newest-first order. */
export function pageFilter(after: CursorPosition) {
  return {
    $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after._id } }],
  };
}

export { DEFAULT_LIMIT, MAX_LIMIT } from '@pdash/contracts';
