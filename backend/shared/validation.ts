import { z } from 'zod';

/** A page size: 0 (protobuf's "unset") means the default. */
export const limitField = (fallback: number, max: number) =>
  z
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 1 && n <= max), `must be 1..${max}`)
    .transform((n) => n || fallback);
