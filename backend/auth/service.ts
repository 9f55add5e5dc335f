import { setTimeout as sleep } from 'node:timers/promises';
import { actorOf } from '@pdash/backend-shared/audit';
import type { Claims } from '@pdash/backend-shared/claims';
import { logFieldsOf } from '@pdash/backend-shared/context';
import { failure, notFound, parseRequest, ServerError, Status } from '@pdash/backend-shared/errors';
import { parseId } from '@pdash/backend-shared/ids';
import type { Logger } from '@pdash/backend-shared/logger';
import { DEFAULT_LIMIT, MAX_LIMIT } from '@pdash/backend-shared/pagination';
import { limitField } from '@pdash/backend-shared/validation';
import {
  AUDIT_ENTITIES,
  cursor,
  email,
  INVITE_HOURS,
  newPassword,
  objectId,
  role,
  type SignupMode,
  secret,
  text,
  username,
} from '@pdash/contracts';
import type { AuthServiceImplementation, User } from '@pdash/proto/auth/v1/auth';
import type { CallContext } from 'nice-grpc';
import { z } from 'zod';
import type { History } from './history.js';
import type { InviteStore } from './invites.js';
import type { LoginLimiter } from './login-limiter.js';
import { hashPassword, type PasswordVerifier } from './passwords.js';
import type { RevocationList } from './revocations.js';
import type { SignupLimiter } from './signup-limiter.js';
import { toUser, type UserChanges, type UserStore } from './store.js';
import { type AccessTokens, unauthenticated } from './tokens.js';

const signUpSchema = z.object({
  username,
  email,
  password: newPassword,
  clientAddress: text(100).optional(),
  inviteCode: z.string().max(200, 'is not a valid invitation code').optional(),
});
const inviteSchema = z.object({
  role,
  email: email.optional(),
  // 0 (protobuf's "unset") means the default.
  expiresInHours: limitField(INVITE_HOURS.default, INVITE_HOURS.max),
});
const listUsersSchema = z.object({ q: text(200).optional(), limit: limitField(DEFAULT_LIMIT, MAX_LIMIT), cursor: cursor.optional() });
const updateUserSchema = z.object({ id: objectId, role: role.optional(), disabled: z.boolean().optional() });
const listAuditSchema = z.object({
  entity: z.enum(AUDIT_ENTITIES).optional(),
  entityId: z
    .string()
    .regex(/^[0-9a-fA-F]{24}$/, 'must be a 24-character hex id')
    .optional(),
  actorId: objectId.optional(),
  limit: limitField(DEFAULT_LIMIT, MAX_LIMIT),
  cursor: cursor.optional(),
  includeUsers: z.boolean(),
});
const logInSchema = z.object({
  login: text(254).toLowerCase().min(1, 'must not be empty'),
  password: secret(128).refine((value) => value.length > 0, 'must not be empty'),
  clientAddress: text(100),
});

/** The same answer for an unknown user and a wrong password, so neither tells which it was. */
const INVALID_LOGIN = 'invalid username or password';

/** How long a sign-up just made answers its repeats from memory (the unique indexes decide after). */
const RECENT_SIGNUP_MS = 5_000;
const INVALID_INVITE = 'inviteCode: invalid, already used or expired; ask an admin for a new invitation';
/** How long users.update waits for another one changing accounts before it says busy. */
const ADMIN_LOCK_ROUNDS = 80;
const ADMIN_LOCK_WAIT_MS = 25;
/** The accounts claim goes stale after 20 s: its holder writes only within the first 5 (a write then lands within 13.5 s). */
const ADMIN_LOCK_WRITE_WITHIN_MS = 5_000;

/** Accounts, roles, invitations, passwords and access tokens; and the reading of the history. */
export function createAuthService(deps: {
  store: UserStore;
  invites: InviteStore;
  history: History;
  /** Held while an account's role or state changes: "the last enabled admin stays" needs one at a time. */
  adminLock: Claims;
  signupMode: SignupMode;
  verifyPassword: PasswordVerifier;
  tokens: AccessTokens;
  revocations: RevocationList;
  limiter: LoginLimiter;
  signups: SignupLimiter;
  log: Logger;
}): AuthServiceImplementation {
  const { store, invites, history, adminLock, signupMode, verifyPassword, tokens, revocations, limiter, signups, log } = deps;
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
      // The invitation first: without a valid one nothing else is told, not even whether a name is taken.
      if (signupMode === 'invite' && !fields.inviteCode)
        throw new ServerError(Status.PERMISSION_DENIED, 'inviteCode: required; sign-up is by invitation (ask an admin)');
      if (fields.inviteCode && !(await invites.isUsable(fields.inviteCode)))
        throw new ServerError(Status.PERMISSION_DENIED, INVALID_INVITE);
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
        const invite = fields.inviteCode ? await invites.use(fields.inviteCode) : undefined;
        if (fields.inviteCode && !invite) throw new ServerError(Status.PERMISSION_DENIED, INVALID_INVITE);
        // A sign-up that makes no account gives its count and its invitation back.
        const giveBack = async () => {
          await signups.refund(address);
          if (invite) await invites.giveBack(invite.id);
        };
        await signups.count(address).catch(async (err) => {
          if (invite) await invites.giveBack(invite.id);
          throw err;
        });
        let result: Awaited<ReturnType<typeof store.create>>;
        try {
          const passwordHash = await signups.hash(context.signal, () => hashPassword(fields.password));
          result = await store.create(
            { username: fields.username, email: fields.email, passwordHash, role: invite?.role ?? 'viewer' },
            { invite: invite?.id.toHexString() },
          );
        } catch (err) {
          // An insert that timed out may still have landed: the invitation goes back only when no account was made.
          const made = await store.findByLogin(fields.username).then(
            (doc) => doc !== undefined,
            () => true,
          );
          if (made) await signups.refund(address).catch(() => {});
          else await giveBack();
          throw err;
        }
        if ('taken' in result) {
          await giveBack();
          throw failure(
            Status.ALREADY_EXISTS,
            'DUPLICATE',
            result.taken === 'username' ? 'username: already taken' : 'email: already registered',
          );
        }
        return result.user;
      })();
      for (const key of keys) signUpsInFlight.set(key, work);
      const forget = () => {
        for (const key of keys) if (signUpsInFlight.get(key) === work) signUpsInFlight.delete(key);
      };
      try {
        const user = await work;
        log.info({ ...logFieldsOf(context), userId: user.id, username: fields.username }, 'user signed up');
        // Kept a moment: the rest of a burst of identical sign-ups is told "taken" without a scan each.
        setTimeout(forget, RECENT_SIGNUP_MS).unref();
        return { user };
      } catch (err) {
        forget();
        throw err;
      }
    },

    async logIn(request, context) {
      const { login, password, clientAddress } = parseRequest(logInSchema, request);
      const user = await store.findByLogin(login);
      // Counted per account (whichever of its names was given), or per login when there is no such account.
      const limitKey = user?.username ?? login;
      const address = clientAddress || undefined;
      const retryAfter = await limiter.attempt(limitKey, address);
      if (retryAfter !== undefined) {
        log.info({ ...logFieldsOf(context), login, clientAddress }, 'login attempts over the limit');
        throw failure(Status.RESOURCE_EXHAUSTED, 'RATE_LIMITED', `too many login attempts; retry in ${retryAfter} s`, {
          retryAfterSeconds: retryAfter,
        });
      }
      const matches = await verifyPassword(user?.passwordHash, password);
      if (!user || !matches) {
        log.info({ ...logFieldsOf(context), login, clientAddress }, 'login failed');
        throw unauthenticated(INVALID_LOGIN);
      }
      await limiter.succeeded(limitKey, address);
      // Told only to whoever knows the password: a guesser learns nothing about the account.
      if (user.disabled) throw unauthenticated('account: disabled; ask an admin');
      const { token, claims } = await tokens.issue({ id: user._id.toHexString(), username: user.username, role: toUser(user).role });
      log.info({ ...logFieldsOf(context), userId: claims.userId, jti: claims.jti }, 'logged in');
      return { accessToken: token, expiresAt: claims.expiresAt.toISOString(), user: toUser(user) };
    },

    /**
     * The role and state are read from the account, not the token: a change applies to tokens
     * already issued (the BFF trusts an answer for at most 5 s).
     */
    async verifyToken({ token }) {
      const claims = await tokens.verify(token);
      const [revoked, user] = await Promise.all([revocations.isRevoked(claims.jti), store.getDoc(parseId(claims.userId))]);
      if (revoked) throw unauthenticated('token revoked');
      if (!user) throw unauthenticated('token: no such account');
      if (user.disabled) throw unauthenticated('account disabled');
      return { userId: claims.userId, username: user.username, expiresAt: claims.expiresAt.toISOString(), role: toUser(user).role };
    },

    /** Idempotent: revoking a revoked (but otherwise valid) token succeeds again. */
    async revokeToken({ token }, context) {
      const claims = await tokens.verify(token);
      await revocations.revoke(claims.jti, claims.expiresAt);
      log.info({ ...logFieldsOf(context), userId: claims.userId, jti: claims.jti }, 'token revoked');
      return {};
    },

    async getUser({ id }) {
      const user = await store.get(parseId(id));
      if (!user) throw notFound(`no user ${id}`);
      return user;
    },

    async createInvite(request, context) {
      const actor = await requireAdmin(context);
      const fields = parseRequest(inviteSchema, request);
      const invite = await invites.create(fields, actor);
      log.info({ ...logFieldsOf(context), inviteRole: invite.role, by: actor.username }, 'invitation made');
      return { ...invite, expiresAt: invite.expiresAt.toISOString() };
    },

    async listUsers(request, context) {
      await requireAdmin(context);
      return store.list(parseRequest(listUsersSchema, request));
    },

    async updateUser(request, context) {
      const actor = await requireAdmin(context);
      const { id, ...given } = parseRequest(updateUserSchema, request);
      // protobuf's decoder sets every optional field, unset ones as undefined: only the given ones change.
      const changes: UserChanges = {};
      if (given.role !== undefined) changes.role = given.role;
      if (given.disabled !== undefined) changes.disabled = given.disabled;
      const objectId = parseId(id);
      return withAdminLock(async (inTime) => {
        const before = await store.getDoc(objectId);
        if (!before) throw notFound(`no user ${id}`);
        const after = { ...toUser(before), ...changes };
        const staysEnabledAdmin = after.role === 'admin' && !after.disabled;
        if (toUser(before).role === 'admin' && !before.disabled && !staysEnabledAdmin && !(await store.hasOtherEnabledAdmin(objectId)))
          throw failure(Status.FAILED_PRECONDITION, 'LAST_ADMIN', `user ${id} is the last enabled admin; make another admin first`);
        if (!inTime()) throw new ServerError(Status.UNAVAILABLE, 'accounts are busy; try again');
        const user = await store.update(before, changes, actor);
        if (!user) throw notFound(`no user ${id}`);
        log.info({ ...logFieldsOf(context), userId: id, changes, by: actor.username }, 'user updated');
        return user;
      });
    },

    async listAudit(request, context) {
      const query = parseRequest(listAuditSchema, request);
      // Entries about users are for admins: the caller's role is checked here too, not taken from the request.
      const includeUsers = query.includeUsers && (await callerIsAdmin(context));
      if (query.entity === 'user' && !includeUsers)
        throw new ServerError(Status.PERMISSION_DENIED, 'role: admin needed for the history of users');
      return history.list({ ...query, includeUsers });
    },
  };

  async function callerIsAdmin(context: CallContext) {
    const actor = actorOf(context.metadata);
    const doc = actor ? await store.getDoc(parseId(actor.id)) : undefined;
    return !!doc && !doc.disabled && toUser(doc).role === 'admin';
  }

  /** The calling admin (the BFF checked the role too; this service does not take it on trust). */
  async function requireAdmin(context: CallContext) {
    const actor = actorOf(context.metadata);
    if (!actor || !(await callerIsAdmin(context))) throw new ServerError(Status.PERMISSION_DENIED, 'role: admin needed');
    return actor;
  }

  /**
   * Runs `work` while holding the accounts claim. `work` gets `inTime()`: false once the claim could
   * have gone stale (another admin's change may then run), so it must not write any more.
   */
  async function withAdminLock<T>(work: (inTime: () => boolean) => Promise<T>): Promise<T> {
    for (let round = 0; round < ADMIN_LOCK_ROUNDS; round++) {
      const at = await adminLock.takeAt('accounts');
      if (at) {
        try {
          return await work(() => Date.now() - at.getTime() < ADMIN_LOCK_WRITE_WITHIN_MS);
        } finally {
          await adminLock.releaseEventually('accounts', { at });
        }
      }
      await sleep(ADMIN_LOCK_WAIT_MS);
    }
    throw new ServerError(Status.UNAVAILABLE, 'accounts are being changed by another admin; try again');
  }
}
