import { failure, notFound, parseRequest, Status } from '@pdash/backend-shared/errors';
import { parseId } from '@pdash/backend-shared/ids';
import type { Logger } from '@pdash/backend-shared/logger';
import { email, newPassword, secret, text, username } from '@pdash/contracts';
import type { AuthServiceImplementation, User } from '@pdash/proto/auth/v1/auth';
import { z } from 'zod';
import type { LoginLimiter } from './login-limiter.js';
import { hashPassword, type PasswordVerifier } from './passwords.js';
import type { RevocationList } from './revocations.js';
import type { SignupLimiter } from './signup-limiter.js';
import { toUser, type UserStore } from './store.js';
import { type AccessTokens, unauthenticated } from './tokens.js';

const signUpSchema = z.object({ username, email, password: newPassword, clientAddress: text(100).optional() });
const logInSchema = z.object({
  login: text(254).toLowerCase().min(1, 'must not be empty'),
  password: secret(128).refine((value) => value.length > 0, 'must not be empty'),
  clientAddress: text(100),
});

/** The same answer for an unknown user and a wrong password, so neither tells which it was. */
const INVALID_LOGIN = 'invalid username or password';

/** Accounts, passwords and access tokens. */
export function createAuthService(deps: {
  store: UserStore;
  verifyPassword: PasswordVerifier;
  tokens: AccessTokens;
  revocations: RevocationList;
  limiter: LoginLimiter;
  signups: SignupLimiter;
  log: Logger;
}): AuthServiceImplementation {
  const { store, verifyPassword, tokens, revocations, limiter, signups, log } = deps;
  /** Sign-ups being written, by `username:<name>` and `email:<address>`: the user they create. */
  const signUpsInFlight = new Map<string, Promise<User>>();
  const firstInFlight = (keys: string[]) => keys.map((key) => signUpsInFlight.get(key)).find((p) => p !== undefined);

  return {
    /**
     * The unique indexes decide who gets a name. Before that, identical sign-ups arriving together
     * wait for the first one, and later repeats find the name taken, rather than each hashing a
     * password (argon2 costs ~50 ms of a core): 200 at once would otherwise queue past their
     * deadline and fail with 503 instead of 409.
     */
    async signUp(request, context) {
      const fields = parseRequest(signUpSchema, request);
      const keys = [`username:${fields.username}`, `email:${fields.email}`];
      for (let prior = firstInFlight(keys); prior; prior = firstInFlight(keys)) {
        const created = await prior.catch(() => undefined);
        if (created?.username === fields.username) throw failure(Status.ALREADY_EXISTS, 'DUPLICATE', 'username: already taken');
        if (created?.email === fields.email) throw failure(Status.ALREADY_EXISTS, 'DUPLICATE', 'email: already registered');
      }
      const work = (async () => {
        // Taken already (a sign-up repeated later): say so without paying for a hash.
        if (await store.findByLogin(fields.username)) throw failure(Status.ALREADY_EXISTS, 'DUPLICATE', 'username: already taken');
        if (await store.findByLogin(fields.email)) throw failure(Status.ALREADY_EXISTS, 'DUPLICATE', 'email: already registered');
        // Only a sign-up that will hash counts against its address; the hash waits its turn and
        // is never made for a caller that gave up meanwhile (signup-limiter.ts).
        const address = fields.clientAddress || undefined;
        await signups.count(address);
        let result: Awaited<ReturnType<typeof store.create>>;
        try {
          const passwordHash = await signups.hash(context.signal, () => hashPassword(fields.password));
          result = await store.create({ username: fields.username, email: fields.email, passwordHash });
        } catch (err) {
          await signups.refund(address);
          throw err;
        }
        if ('taken' in result) {
          await signups.refund(address);
          throw failure(
            Status.ALREADY_EXISTS,
            'DUPLICATE',
            result.taken === 'username' ? 'username: already taken' : 'email: already registered',
          );
        }
        return result.user;
      })();
      for (const key of keys) signUpsInFlight.set(key, work);
      try {
        const user = await work;
        log.info({ userId: user.id, username: fields.username }, 'user signed up');
        return { user };
      } finally {
        for (const key of keys) if (signUpsInFlight.get(key) === work) signUpsInFlight.delete(key);
      }
    },

    async logIn(request) {
      const { login, password, clientAddress } = parseRequest(logInSchema, request);
      const user = await store.findByLogin(login);
      // Counted per account (whichever of its names was given), or per login when there is no such account.
      const limitKey = user?.username ?? login;
      const address = clientAddress || undefined;
      const retryAfter = await limiter.attempt(limitKey, address);
      if (retryAfter !== undefined) {
        log.info({ login, clientAddress }, 'login attempts over the limit');
        throw failure(Status.RESOURCE_EXHAUSTED, 'RATE_LIMITED', `too many login attempts; retry in ${retryAfter} s`, {
          retryAfterSeconds: retryAfter,
        });
      }
      const matches = await verifyPassword(user?.passwordHash, password);
      if (!user || !matches) {
        log.info({ login, clientAddress }, 'login failed');
        throw unauthenticated(INVALID_LOGIN);
      }
      await limiter.succeeded(limitKey, address);
      const { token, claims } = await tokens.issue({ id: user._id.toHexString(), username: user.username });
      log.info({ userId: claims.userId, jti: claims.jti }, 'logged in');
      return { accessToken: token, expiresAt: claims.expiresAt.toISOString(), user: toUser(user) };
    },

    async verifyToken({ token }) {
      const claims = await tokens.verify(token);
      if (await revocations.isRevoked(claims.jti)) throw unauthenticated('token revoked');
      return { userId: claims.userId, username: claims.username, expiresAt: claims.expiresAt.toISOString() };
    },

    /** Idempotent: revoking a revoked (but otherwise valid) token succeeds again. */
    async revokeToken({ token }) {
      const claims = await tokens.verify(token);
      await revocations.revoke(claims.jti, claims.expiresAt);
      log.info({ userId: claims.userId, jti: claims.jti }, 'token revoked');
      return {};
    },

    async getUser({ id }) {
      const user = await store.get(parseId(id));
      if (!user) throw notFound(`no user ${id}`);
      return user;
    },
  };
}
