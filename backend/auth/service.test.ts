import { type Backend, startBackend } from '@pdash/testing/backend';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcError, newUser } from './test-support.js';

let backend: Backend;
/** The collection's first user: a lookup that stopped at the match would find it the fastest. */
const firstUser = newUser();

beforeAll(async () => {
  // A high limit: the timing test makes 60 failed logins.
  backend = await startBackend(['auth'], { AUTH_LOGIN_MAX_FAILURES: '1000' });
  await backend.auth.signUp(firstUser);
});

afterAll(async () => {
  await backend?.stop();
});

const users = () => backend.db.collection('users');

describe('SignUp', () => {
  it('creates a user with lower-cased username and email and returns no password or hash', async () => {
    const fields = newUser();
    const { user } = await backend.auth.signUp({ ...fields, username: fields.username.toUpperCase(), email: fields.email.toUpperCase() });
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      username: fields.username,
      email: fields.email,
      // SIGNUP_MODE=open in tests (tests/support/backend.ts): a sign-up without an invitation is a viewer.
      role: 'viewer',
      disabled: false,
      createdAt: expect.any(String),
    });
    expect(Math.abs(Date.parse(user!.createdAt!) - Date.now())).toBeLessThan(10_000);
  });

  it('stores an argon2id hash with its parameters, never the password', async () => {
    const fields = newUser('a very secret passphrase');
    const { user } = await backend.auth.signUp(fields);
    const doc = await users().findOne({ username: fields.username });
    expect(doc?._id.toHexString()).toBe(user!.id);
    expect(doc?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(JSON.stringify(doc)).not.toContain(fields.password);
  });

  it('salts every hash: the same password twice gives two hashes', async () => {
    const [a, b] = [newUser('the same password'), newUser('the same password')];
    await backend.auth.signUp(a);
    await backend.auth.signUp(b);
    const docs = await users()
      .find({ username: { $in: [a.username, b.username] } })
      .toArray();
    expect(docs).toHaveLength(2);
    expect(docs[0]!.passwordHash).not.toBe(docs[1]!.passwordHash);
  });

  it.each([
    ['username', { username: 'ab' }, 'must be 3..32 characters'],
    ['username', { username: 'a'.repeat(33) }, 'must be 3..32 characters'],
    ['username', { username: 'has space' }, 'may hold only letters, digits and _ . -'],
    ['username', { username: 'at@sign' }, 'may hold only letters, digits and _ . -'],
    ['email', { email: 'not-an-email' }, 'must be an email address'],
    ['email', { email: '' }, 'must be an email address'],
    ['password', { password: 'short12' }, 'must be 8..128 characters'],
    ['password', { password: 'x'.repeat(129) }, 'must be 8..128 characters'],
  ])('refuses a bad %s: %j', async (field, change, message) => {
    const fields = { ...newUser(), ...change };
    const err = await grpcError(backend.auth.signUp(fields));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.details).toBe(`${field}: ${message}`);
    expect(await users().countDocuments({ username: fields.username.toLowerCase() })).toBe(0);
  });

  it('accepts the edges: 3- and 32-character usernames, 8- and 128-character passwords', async () => {
    const short = await backend.auth.signUp({ ...newUser('x'.repeat(8)), username: '_.-' });
    expect(short.user?.username).toBe('_.-');
    const long = await backend.auth.signUp({ ...newUser('y'.repeat(128)), username: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345' });
    expect(long.user?.username).toBe('abcdefghijklmnopqrstuvwxyz012345');
  });

  it('refuses a taken username, compared case-insensitively, with ALREADY_EXISTS naming it', async () => {
    const first = newUser();
    await backend.auth.signUp(first);
    const err = await grpcError(backend.auth.signUp({ ...newUser(), username: first.username.toUpperCase() }));
    expect(err.code).toBe(Status.ALREADY_EXISTS);
    expect(err.details).toBe('username: already taken');
  });

  it('refuses a registered email, compared case-insensitively, with ALREADY_EXISTS naming it', async () => {
    const first = newUser();
    await backend.auth.signUp(first);
    const err = await grpcError(backend.auth.signUp({ ...newUser(), email: first.email.toUpperCase() }));
    expect(err.code).toBe(Status.ALREADY_EXISTS);
    expect(err.details).toBe('email: already registered');
  });

  it('lets exactly one of 200 concurrent identical sign-ups succeed', async () => {
    const fields = newUser();
    // Each sign-up hashes before its insert, so the last ones wait well past the default deadline.
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => backend.auth.signUp(fields, { deadline: 60_000 })));
    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(succeeded).toHaveLength(1);
    expect(refused).toHaveLength(199);
    for (const reason of refused) expect(reason).toMatchObject({ code: Status.ALREADY_EXISTS, details: 'username: already taken' });
    expect(await users().countDocuments({ username: fields.username })).toBe(1);
  });
});

describe('GetUser', () => {
  it('returns the user without any hash', async () => {
    const { user } = await backend.auth.signUp(newUser());
    const found = await backend.auth.getUser({ id: user!.id });
    expect(found).toEqual(user);
    expect(JSON.stringify(found)).not.toMatch(/argon2|password/i);
  });

  it('answers NOT_FOUND for an id no user has', async () => {
    const err = await grpcError(backend.auth.getUser({ id: '0123456789abcdef01234567' }));
    expect(err.code).toBe(Status.NOT_FOUND);
    expect(err.details).toBe('no user 0123456789abcdef01234567');
  });

  it.each(['', 'nope', '0123456789abcdef0123456', '{"$ne":null}'])('refuses the malformed id %j before any query', async (id) => {
    const err = await grpcError(backend.auth.getUser({ id }));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^id: /);
  });
});

describe('LogIn', () => {
  it('logs in by username or by email, in any case, with an EdDSA token carrying the expected claims', async () => {
    const fields = newUser();
    const { user } = await backend.auth.signUp(fields);
    for (const login of [fields.username, fields.email, fields.username.toUpperCase(), ` ${fields.email.toUpperCase()} `]) {
      const before = Math.floor(Date.now() / 1000);
      const session = await backend.auth.logIn({ login, password: fields.password, clientAddress: '10.0.0.1' });
      expect(session.user).toEqual(user);
      expect(decodeProtectedHeader(session.accessToken)).toEqual({ alg: 'EdDSA', typ: 'JWT' });
      const claims = decodeJwt(session.accessToken);
      expect(claims).toEqual({
        sub: user!.id,
        username: fields.username,
        role: 'viewer',
        jti: expect.stringMatching(/^[\w-]{22}$/),
        iat: expect.any(Number),
        exp: claims.iat! + 900,
        iss: 'pdash-auth',
        aud: 'pdash',
      });
      expect(claims.iat).toBeGreaterThanOrEqual(before);
      expect(session.expiresAt).toBe(new Date(claims.exp! * 1000).toISOString());
      expect(JSON.stringify(session)).not.toMatch(/argon2|password/i);
      await expect(backend.auth.verifyToken({ token: session.accessToken })).resolves.toEqual({
        userId: user!.id,
        username: fields.username,
        expiresAt: session.expiresAt,
        role: 'viewer',
      });
    }
  });

  it('gives every login its own jti', async () => {
    const fields = newUser();
    await backend.auth.signUp(fields);
    const login = () => backend.auth.logIn({ login: fields.username, password: fields.password, clientAddress: '' });
    const [a, b] = await Promise.all([login(), login()]);
    expect(decodeJwt(a.accessToken).jti).not.toBe(decodeJwt(b.accessToken).jti);
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const fields = newUser();
    await backend.auth.signUp(fields);
    const wrong = await grpcError(backend.auth.logIn({ login: fields.username, password: 'wrong password', clientAddress: '' }));
    const unknown = await grpcError(backend.auth.logIn({ login: 'nobody_here', password: fields.password, clientAddress: '' }));
    for (const err of [wrong, unknown]) {
      expect(err.code).toBe(Status.UNAUTHENTICATED);
      expect(err.details).toBe('invalid username or password');
    }
  });

  it('does not let one user log in with another user’s password', async () => {
    const [a, b] = [newUser('password of a'), newUser('password of b')];
    await Promise.all([backend.auth.signUp(a), backend.auth.signUp(b)]);
    const err = await grpcError(backend.auth.logIn({ login: a.username, password: b.password, clientAddress: '' }));
    expect(err.code).toBe(Status.UNAUTHENTICATED);
  });

  it.each([
    ['login', { login: '' }, 'must not be empty'],
    ['password', { password: '' }, 'must not be empty'],
    ['password', { password: 'x'.repeat(129) }, 'must be at most 128 characters'],
  ])('refuses a bad %s: %j', async (field, change, message) => {
    const err = await grpcError(backend.auth.logIn({ login: 'someone', password: 'some password', clientAddress: '', ...change }));
    expect(err.code).toBe(Status.INVALID_ARGUMENT);
    expect(err.details).toBe(`${field}: ${message}`);
  });

  it('takes about as long for an unknown user as for a wrong password (medians of 40 within 25%)', async () => {
    // Enough users that a lookup which finds the first one sooner than it misses an unknown one shows.
    const filler = Array.from({ length: 500 }, (_, i) => ({
      username: `filler_${i}`,
      email: `filler.${i}@example.com`,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3ZcqJ3mSMQCHNNz5wnkyxiabd9dA4XS3oRyzMxV2pPE',
      createdAt: new Date(),
    }));
    await users().insertMany(filler);
    const timed = async (login: string) => {
      const started = performance.now();
      const err = await grpcError(backend.auth.logIn({ login, password: 'not the password', clientAddress: '' }));
      expect(err.code).toBe(Status.UNAUTHENTICATED);
      return performance.now() - started;
    };
    const unknown: number[] = [];
    const wrongPassword: number[] = [];
    // Interleaved, in a random order within each pair, so that any drift in the machine's load (and
    // whatever the first of two calls leaves to the second) affects both alike.
    for (let i = 0; i < 40; i++) {
      if (Math.random() < 0.5) {
        unknown.push(await timed(`unknown_${i}`));
        wrongPassword.push(await timed(firstUser.username));
      } else {
        wrongPassword.push(await timed(firstUser.username));
        unknown.push(await timed(`unknown_${i}`));
      }
    }
    const [a, b] = [median(unknown), median(wrongPassword)];
    console.info(`login medians: unknown ${a.toFixed(2)} ms, wrong password ${b.toFixed(2)} ms`);
    expect(Math.max(a, b) / Math.min(a, b), `medians: unknown ${a.toFixed(1)} ms, wrong password ${b.toFixed(1)} ms`).toBeLessThanOrEqual(
      1.25,
    );
  });
});

function median(values: number[]) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}
