import { z } from 'zod';

/*
 * The rules every layer checks the same way: the BFF's inputs, the services' requests, the
 * dashboard's forms and the CLI. Where copies of them had drifted, the choice (docs/changing.md):
 * text is refused when it holds characters that only hide or disguise text (C0 and C1 controls,
 * lone surrogates, direction overrides, zero-width spaces, a byte-order mark), then trimmed at
 * both ends. The refusal comes first: trimming alone would silently drop a leading U+FEFF.
 *
 * Every rule is a pattern, a length or a range, so that the OpenAPI document (made from these
 * schemas) states all that the server enforces.
 */

const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f';
// "Trojan Source" overrides and isolates, invisible zero-width spaces and the byte-order mark.
// Joiners (U+200C, U+200D) stay allowed: scripts and emoji need them.
const DISGUISING = '\\u200b\\u2060\\ufeff\\u202a-\\u202e\\u2066-\\u2069';
const NO_CONTROL = new RegExp(`^[^${CONTROL}]*$`);
const NO_DISGUISING = new RegExp(`^[^${DISGUISING}]*$`);
// In Unicode mode a class of surrogates matches only a lone one (a pair is one code point). A
// reader of the pattern without that mode refuses every pair too: stricter, never looser.
const NO_LONE_SURROGATE = /^[^\ud800-\udfff]*$/u;

/** A string with no control characters and no lone surrogates (both would change it silently). */
const unchanged = () =>
  z
    .string()
    .regex(NO_CONTROL, 'must not contain control characters')
    .regex(NO_LONE_SURROGATE, 'must be valid Unicode (no lone surrogates)');
/** ...nor anything that hides or disguises text. */
const visible = () => unchanged().regex(NO_DISGUISING, 'must not contain invisible or direction-changing characters');

/** One line a user types: nothing that hides or disguises text, trimmed, at most `max` characters. */
export const text = (max: number) => visible().trim().max(max, `must be at most ${max} characters`);

/** A password: never trimmed; anything but control characters and lone surrogates. */
export const secret = (max: number) => unchanged().max(max, `must be at most ${max} characters`);

/** Text that must say something: not empty, nor only spaces. */
export const required = (max: number) => visible().regex(/\S/, 'must not be empty').trim().max(max, `must be at most ${max} characters`);

const EMAIL = z.regexes.email;
export const PHONE = /^[0-9+().\s/-]*$/;

/** Optional fields of a form or a request: an empty string means none (create) or remove (update). */
export const emailOrEmpty = text(254).regex(new RegExp(`^$|${EMAIL.source}`), 'must be an email address');
export const phoneOrEmpty = text(40).regex(PHONE, 'may hold only digits, spaces and + - ( ) . /');
export const email = text(254).toLowerCase().regex(EMAIL, 'must be an email address');

export const USERNAME = /^[a-z0-9_.-]+$/;
export const username = visible()
  .trim()
  .toLowerCase()
  .min(3, 'must be 3..32 characters')
  .max(32, 'must be 3..32 characters')
  .regex(USERNAME, 'may hold only letters, digits and _ . -');
export const newPassword = unchanged().min(8, 'must be 8..128 characters').max(128, 'must be 8..128 characters');

const HEX24 = /^[0-9a-f]{24}$/i;
export const objectId = z.string().max(24, 'must be a 24-character hex ObjectId').regex(HEX24, 'must be a 24-character hex ObjectId');

/** The most calls one tRPC batch may carry (API.md): more is refused whole, nothing run. */
export const MAX_BATCH_CALLS = 16;

export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;
export const limit = z
  .number()
  .int('must be a whole number')
  .min(1, `must be 1..${MAX_LIMIT}`)
  .max(MAX_LIMIT, `must be 1..${MAX_LIMIT}`)
  .describe(`page size, default ${DEFAULT_LIMIT}`);
/**
 * A page's position: the creation time (ms) and id of the last record seen, `<ms>_<24 hex>`. Any
 * such value is a position the services can page from, so the pattern says all there is to it.
 */
export const CURSOR = /^(\d{1,15})_([0-9a-f]{24})$/;
export const cursor = z.string().regex(CURSOR, 'is not a cursor this service made').describe('nextCursor of the previous page');
/** Versions are 32-bit on the wire (proto int32). */
export const MAX_VERSION = 2 ** 31 - 1;
export const expectedVersion = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be 1 or more')
  .max(MAX_VERSION, `must be at most ${MAX_VERSION}`)
  .describe('fails with 409 unless current');

/** Money is a whole number of cents; at most ten billion in the currency. */
export const MAX_TOTAL_CENTS = 1e12;
export const totalCents = z
  .number()
  .int('must be a whole number of cents')
  .min(0, 'must not be negative')
  .max(MAX_TOTAL_CENTS, `must be at most ${MAX_TOTAL_CENTS}`)
  .describe('integer cents');

export const timestamp = z.string().describe('ISO-8601 UTC');
export const version = z.number().int().min(1).describe('starts at 1, grows by one on each update');

/** A page of a list: `nextCursor` is null on the last page; `total` counts every match. */
export const page = <S extends z.ZodType>(item: S) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable(), total: z.number().int() });
export const byId = z.strictObject({ id: objectId });
