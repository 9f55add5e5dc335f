import { email, loginInput, MAX_TOTAL_CENTS, newPassword, role, userInviteInput, username } from '@pdash/contracts';
import { z } from 'zod';
import { parseMoney } from './format';

/*
 * The forms' validation: @pdash/contracts' rules, limits and messages, the same the BFF and the
 * services check, checked before a request is sent. Their outputs are
 * the procedures' inputs (RouterInputs), so tsc fails if the shapes ever drift apart.
 */

export { MAX_TOTAL_CENTS, partyForm } from '@pdash/contracts';

const objectId = (missing: string) => z.string().regex(/^[0-9a-f]{24}$/i, missing);

export const signupForm = z.object({ username, email, password: newPassword });
export const loginForm = loginInput;

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

/** An invitation: a role, an email if one is typed, and an expiry in hours if one is typed (else the server's default). */
export const inviteForm = z.object({
  role,
  email: z
    .string()
    .transform((value) => value.trim() || undefined)
    .pipe(email.optional()),
  expiresInHours: z
    .string()
    .transform((value, ctx) => {
      const text = value.trim();
      if (text === '') return undefined;
      if (!/^\d{1,6}$/.test(text)) ctx.addIssue({ code: 'custom', message: 'must be a whole number' });
      return Number(text);
    })
    .pipe(userInviteInput.shape.expiresInHours),
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
