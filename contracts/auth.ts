import { z } from 'zod';
import { cursor, email, limit, newPassword, objectId, required, secret, text, timestamp, username } from './rules.js';

/** Who may do what (API.md "Users, roles and sign-up"); each role may do all the one before it may. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const role = z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` });
/** Whether `held` allows what `needed` does. */
export const roleAllows = (held: Role, needed: Role) => ROLES.indexOf(held) >= ROLES.indexOf(needed);
export const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

export const userRecord = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  role,
  disabled: z.boolean(),
  createdAt: timestamp,
});
export type UserRecord = z.infer<typeof userRecord>;

/**
 * An invitation code as users.invite hands it out: the invite's id and a secret, `<24 hex>.<43 base64url>`.
 * The auth service refuses any other text without a look-up, as it refuses a wrong code: 403
 * naming inviteCode (API.md), not 400.
 */
export const INVITE_CODE = /^[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$/;
export const inviteCode = z.string().max(200, 'is not a valid invitation code').describe('the code of an invitation (users.invite)');

/** A sign-up: the rules of a new account (the auth service checks the same). */
export const signupInput = z.strictObject({ username, email, password: newPassword, inviteCode: inviteCode.optional() });
export const loginInput = z.strictObject({
  username: required(254).describe('the username or the email'),
  password: secret(128).min(1, 'must not be empty'),
});

/** auth.session: who is signed in, if anyone (always 200, so a signed-out page load logs no error). */
export const sessionOutput = z.object({ user: userRecord.nullable() });

/** How `SIGNUP_MODE` lets people in: `invite` (the default) only with a code, `open` anyone (as a viewer). */
export const SIGNUP_MODES = ['invite', 'open'] as const;
export type SignupMode = (typeof SIGNUP_MODES)[number];

export const INVITE_HOURS = { min: 1, max: 720, default: 72 } as const;
export const userInviteInput = z.strictObject({
  role,
  email: email.optional().describe('who the invite is for (shown to admins; not enforced)'),
  expiresInHours: z
    .number()
    .int('must be a whole number')
    .min(INVITE_HOURS.min, `must be ${INVITE_HOURS.min}..${INVITE_HOURS.max}`)
    .max(INVITE_HOURS.max, `must be ${INVITE_HOURS.min}..${INVITE_HOURS.max}`)
    .optional()
    .describe(`default ${INVITE_HOURS.default}`),
});
export const userInviteOutput = z.object({
  code: z.string(),
  role,
  email: z.string().optional(),
  expiresAt: timestamp,
  url: z.string().describe('the sign-up page with the code filled in'),
});
export const userListInput = z.strictObject({ q: text(200).optional(), limit: limit.optional(), cursor: cursor.optional() });
export const userUpdateInput = z
  .strictObject({ id: objectId, role: role.optional(), disabled: z.boolean().optional() })
  .refine((input) => input.role !== undefined || input.disabled !== undefined, {
    path: ['role'],
    message: 'give role or disabled (or both)',
  });

/** The sign-up page's path; users.invite's url is this with `?invite=<code>`. */
export const SIGNUP_PATH = '/signup';
