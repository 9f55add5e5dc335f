import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

/**
 * argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). The PHC string keeps the
 * algorithm, these parameters and the per-user salt, so they can be raised later without making
 * older hashes unverifiable.
 */
const ARGON2_OPTIONS = {
  algorithm: 2 as Algorithm.Argon2id, // the package's const enum cannot be read under isolatedModules
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
};

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export type PasswordVerifier = (passwordHash: string | undefined, password: string) => Promise<boolean>;

/**
 * Checks a password against a user's hash. For an unknown user (no hash) it checks against a
 * dummy made with the same parameters, so that answer takes as long as a wrong password does.
 */
export async function createPasswordVerifier(): Promise<PasswordVerifier> {
  const dummyHash = await hashPassword(randomBytes(16).toString('hex'));
  return async (passwordHash, password) => {
    const matches = await verify(passwordHash ?? dummyHash, password);
    return matches && passwordHash !== undefined;
  };
}
