import { z } from 'zod';
import { email, newPassword, required, secret, timestamp, username } from './rules.js';

export const userRecord = z.object({ id: z.string(), username: z.string(), email: z.string(), createdAt: timestamp });
export type UserRecord = z.infer<typeof userRecord>;

/** A sign-up: the rules of a new account (the auth service checks the same). */
export const signupInput = z.strictObject({ username, email, password: newPassword });
export const loginInput = z.strictObject({
  username: required(254).describe('the username or the email'),
  password: secret(128).min(1, 'must not be empty'),
});

/** auth.session: who is signed in, if anyone (always 200, so a signed-out page load logs no error). */
export const sessionOutput = z.object({ user: userRecord.nullable() });
