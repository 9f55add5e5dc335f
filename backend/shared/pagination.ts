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

export function encodeCursor(last: CursorPosition): string {
  return Buffer.from(`${last.createdAt.getTime()}:${last._id.toHexString()}`).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  const match = /^(\d{1,15}):([0-9a-f]{24})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match?.[1] || !match[2] || cursor.length > 64) throw invalidArgument('cursor', 'is not a cursor this service made');
  return { createdAt: new Date(Number(match[1])), _id: ObjectId.createFromHexString(match[2]) };
}

/** Records after `after` in newest-first order. */
export function pageFilter(after: CursorPosition) {
  return {
    $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after._id } }],
  };
}

export { DEFAULT_LIMIT, MAX_LIMIT } from '@pdash/contracts';
