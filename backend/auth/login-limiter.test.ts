import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { Redis } from 'ioredis';
import { Status } from 'nice-grpc';
import { RichClientError } from 'nice-grpc-error-details';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcError, newUser } from './test-support.js';

const MAX_FAILURES = 3;
/** Below the account's: one address alone cannot lock an account. */
const ADDRESS_MAX_FAILURES = 2;

describe('login attempt limit', () => {
  let backend: Backend;

  beforeAll(async () => {
    backend = await startBackend(['auth'], {
      AUTH_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: String(ADDRESS_MAX_FAILURES),
    });
  });

  afterAll(async () => {
    await backend?.stop();
  });

  let addresses = 0;
  /** A client address no other attempt used, so that only the per-account limit applies. */
  const freshAddress = () => `192.0.2.${++addresses}`;

  async function signedUp() {
    const fields = newUser();
    await backend.auth.signUp(fields);
    return fields;
  }

  const attempt = (login: string, password: string, clientAddress = freshAddress()) =>
    backend.auth.logIn({ login, password, clientAddress });

  async function expectWrong(login: string, clientAddress?: string) {
    const err = await grpcError(attempt(login, 'wrong password', clientAddress));
    expect(err).toMatchObject({ code: Status.UNAUTHENTICATED, details: 'invalid username or password' });
  }

  async function expectLimited(login: string, password: string, clientAddress?: string) {
    const call = backend.auth.logIn({ login, password, clientAddress: clientAddress ?? freshAddress() });
    const err = await grpcError(call);
    expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
    const retryIn = Number(/^too many login attempts; retry in (\d+) s$/.exec(err.details)?.[1]);
    expect(retryIn).toBeGreaterThan(0);
    expect(retryIn).toBeLessThanOrEqual(900);
    // The reason and the delay as data, in the gRPC error details (what the BFF reads).
    expect(err).toBeInstanceOf(RichClientError);
    expect((err as RichClientError).extra).toEqual([
      expect.objectContaining({ $type: 'google.rpc.ErrorInfo', reason: 'RATE_LIMITED', domain: 'pdash' }),
      expect.objectContaining({ $type: 'google.rpc.RetryInfo', retryDelay: expect.objectContaining({ seconds: retryIn }) }),
    ]);
  }

  it('refuses an account after too many failures, even with the right password, whatever the address', async () => {
    const user = await signedUp();
    for (let i = 0; i < MAX_FAILURES; i++) await expectWrong(user.username);
    await expectLimited(user.username, user.password);
    await expectLimited(user.email, user.password);
  });

  it('counts failures by username and by email against the same account', async () => {
    const user = await signedUp();
    await expectWrong(user.username);
    await expectWrong(user.email.toUpperCase());
    await expectWrong(user.username.toUpperCase());
    await expectLimited(user.username, user.password);
  });

  it('limits unknown logins too, case-insensitively', async () => {
    for (let i = 0; i < MAX_FAILURES; i++) await expectWrong('Ghost_User');
    await expectLimited('ghost_user', 'whatever');
  });

  it('keeps the window in Redis under the documented key', async () => {
    const user = await signedUp();
    await expectWrong(user.username);
    const redis = new Redis(backend.redis.url);
    try {
      expect(await redis.get(`auth:fail:user:${user.username}`)).toBe('1');
      const ttl = await redis.pttl(`auth:fail:user:${user.username}`);
      expect(ttl).toBeGreaterThan(890_000);
      expect(ttl).toBeLessThanOrEqual(900_000);
    } finally {
      redis.disconnect();
    }
  });

  it('resets the account’s count on a successful login', async () => {
    const user = await signedUp();
    for (let i = 0; i < MAX_FAILURES - 1; i++) await expectWrong(user.username);
    await attempt(user.username, user.password);
    for (let i = 0; i < MAX_FAILURES; i++) await expectWrong(user.username);
    await expectLimited(user.username, user.password);
  });

  it('refuses a client address after too many failures, for any account, and only that address', async () => {
    const address = freshAddress();
    for (let i = 0; i < ADDRESS_MAX_FAILURES; i++) await expectWrong(`nobody_${i}`, address);
    const user = await signedUp();
    await expectLimited(user.username, user.password, address);
    await expect(attempt(user.username, user.password, freshAddress())).resolves.toMatchObject({ user: { username: user.username } });
  });

  it('does not count successful logins against an address', async () => {
    const address = freshAddress();
    const user = await signedUp();
    for (let i = 0; i < MAX_FAILURES + 2; i++) await attempt(user.username, user.password, address);
    await expectWrong(user.username, address);
  });

  it("one address cannot lock another's account: once over its own limit, its attempts no longer count against the account", async () => {
    const victim = await signedUp();
    const attacker = freshAddress();
    for (let i = 0; i < ADDRESS_MAX_FAILURES; i++) await expectWrong(victim.username, attacker);
    // The attacker goes on: refused, and none of it reaches the account's count.
    for (let i = 0; i < 10; i++) await expectLimited(victim.username, 'guess-password', attacker);
    const redis = new Redis(backend.redis.url);
    try {
      expect(await redis.get(`auth:fail:user:${victim.username}`)).toBe(String(ADDRESS_MAX_FAILURES));
    } finally {
      redis.disconnect();
    }
    // The victim, from anywhere else, still gets in.
    await expect(attempt(victim.username, victim.password, freshAddress())).resolves.toMatchObject({
      user: { username: victim.username },
    });
  });

  it('holds the limit exactly under a burst of parallel guesses', async () => {
    const user = await signedUp();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => attempt(user.username, 'wrong password')));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: Status }).code : Status.OK));
    expect(codes.filter((c) => c === Status.UNAUTHENTICATED)).toHaveLength(MAX_FAILURES);
    expect(codes.filter((c) => c === Status.RESOURCE_EXHAUSTED)).toHaveLength(20 - MAX_FAILURES);
  });
});

describe('login attempt window', () => {
  let backend: Backend;

  beforeAll(async () => {
    backend = await startBackend(['auth'], { AUTH_LOGIN_MAX_FAILURES: '1', AUTH_LOGIN_WINDOW_SECONDS: '1' });
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('lets the account try again once the window has passed', async () => {
    const user = newUser();
    await backend.auth.signUp(user);
    const attempt = (password: string) => backend.auth.logIn({ login: user.username, password, clientAddress: '198.51.100.1' });
    await grpcError(attempt('wrong password'));
    const err = await grpcError(attempt(user.password));
    expect(err).toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: 'too many login attempts; retry in 1 s' });
    await sleep(1_100);
    await expect(attempt(user.password)).resolves.toMatchObject({ user: { username: user.username } });
  });
});
