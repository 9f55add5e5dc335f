import { z } from 'zod';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A trimmed string of at most `max` characters with no control characters. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters');

/** A page size: 0 (protobuf's "unset") means the default. */
export const limitField = (fallback: number, max: number) =>
  z
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 1 && n <= max), `must be 1..${max}`)
    .transform((n) => n || fallback);
