import { z } from 'zod';
import { parseMoney } from './format';

/*
 * The forms' validation: the same rules, limits and messages as the services (auth, party and
 * orders services, and the BFF's input schemas), checked before a request is sent. Their outputs are
 * the procedures' inputs (RouterInputs), so tsc fails if the shapes ever drift apart.
 */

const text = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`);
const objectId = (missing: string) => z.string().regex(/^[0-9a-f]{24}$/i, missing);
const PHONE = /^[0-9+().\s/-]*$/;

export const signupForm = z.object({
  username: z
    .string()
    .trim()
    .toLowerCase()
    .min(3, 'must be 3..32 characters')
    .max(32, 'must be 3..32 characters')
    .regex(/^[a-z0-9_.-]+$/, 'may hold only letters, digits and _ . -'),
  email: text(254).toLowerCase().pipe(z.email('must be an email address')),
  password: z.string().min(8, 'must be 8..128 characters').max(128, 'must be 8..128 characters'),
});

export const loginForm = z.object({
  username: text(254).min(1, 'must not be empty'),
  password: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
});

/** Customer or supplier. Empty email or phone: none on create, removed on update. */
export const partyForm = z.object({
  name: text(200).min(1, 'must not be empty'),
  email: text(254).refine((v) => v === '' || z.email().safeParse(v).success, 'must be an email address'),
  phone: text(40).regex(PHONE, 'may hold only digits, spaces and + - ( ) . /'),
});

export const MAX_TOTAL_CENTS = 1e12;

export const orderForm = z.object({
  customerId: objectId('choose a customer'),
  supplierId: objectId('choose a supplier'),
  totalCents: z
    .string()
    .transform((value, ctx) => {
      const cents = parseMoney(value);
      if (cents === undefined) ctx.addIssue({ code: 'custom', message: 'must be an amount like 12.34' });
      return cents ?? 0;
    })
    .pipe(z.number().int().min(0, 'must not be negative').max(MAX_TOTAL_CENTS, 'must be at most 10,000,000,000.00')),
});

export type FieldErrors<T> = Partial<Record<keyof T & string, string>>;

/** Parses a form's values: the data, or the first message for each field. */
export function validate<S extends z.ZodType>(
  schema: S,
  values: z.input<S>,
): { data: z.output<S>; errors?: undefined } | { data?: undefined; errors: FieldErrors<z.input<S>> } {
  const result = schema.safeParse(values);
  if (result.success) return { data: result.data };
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? '');
    errors[field] ??= issue.message;
  }
  return { errors: errors as FieldErrors<z.input<S>> };
}
