import { ObjectId } from 'mongodb';
import { invalidArgument } from './errors.js';

const HEX24 = /^[0-9a-f]{24}$/i;

export function isObjectIdHex(value: unknown): value is string {
  return typeof value === 'string' && HEX24.test(value);
}

/** Parses a 24-hex id before it reaches any query; anything else is INVALID_ARGUMENT naming the field. */
export function parseId(value: string, field = 'id'): ObjectId {
  if (!isObjectIdHex(value)) throw invalidArgument(field, 'must be a 24-character hex ObjectId');
  return ObjectId.createFromHexString(value);
}
