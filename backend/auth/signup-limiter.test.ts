import { createLogger } from '@pdash/backend-shared/logger';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { Redis } from 'ioredis';
import { Status } from 'nice-grpc';
import type { RichClientError } from 'nice-grpc-error-details';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignupLimiter } from './signup-limiter.js';
import { grpcError, newUser } from './test-support.js';

/* A burst of sign-ups must not starve logins: each address signs up a few times, hashes wait their turn. */

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend(['auth'], { AUTH_SIGNUP_MAX_PER_ADDRESS: '2' });
});
afterAll(async () => {
  await backend?.stop();
});

describe('sign-ups per client address', () => {
  it('takes the limit from one address, then refuses with a retry delay; another address goes on', async () => {
    const address = '198.51.100.20';
    for (let i = 0; i < 2; i++) await backend.auth.signUp({ ...newUser(), clientAddress: address });
    // A repeat of a taken name is answered without a hash, and costs the address nothing.
    const taken = newUser();
    await backend.auth.signUp({ ...taken, clientAddress: '198.51.100.21' });
    expect((await grpcError(backend.auth.signUp({ ...taken, clientAddress: address }))).code).toBe(Status.ALREADY_EXISTS);

    const refused = await grpcError(backend.auth.signUp({ ...newUser(), clientAddress: address }));
    expect(refused.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(refused.details).toMatch(/^too many sign-ups from this address; retry in \d+ s$/);
    expect((refused as RichClientError).extra).toEqual([
      expect.objectContaining({ $type: 'google.rpc.ErrorInfo', reason: 'RATE_LIMITED' }),
      expect.objectContaining({ $type: 'google.rpc.RetryInfo' }),
    ]);
    await expect(backend.auth.signUp({ ...newUser(), clientAddress: '198.51.100.22' })).resolves.toHaveProperty('user');
  });
});

describe('the hashing gate', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(backend.redis.url);
  });
  afterAll(() => redis?.disconnect());

  it('a sign-up that made no account gives its count back; one over the limit does not hold the count up', async () => {
    const limiter = new SignupLimiter(
      redis,
      { maxPerAddress: 1, windowSeconds: 60, hashConcurrency: 1, queueLength: 1 },
      `refund-test-${Date.now()}:`,
      createLogger('test', 'silent'),
    );
    await limiter.count('203.0.113.50');
    await limiter.refund('203.0.113.50');
    await limiter.count('203.0.113.50');
    await expect(limiter.count('203.0.113.50')).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    await expect(limiter.count('203.0.113.50')).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    // A caller already out of time does not even queue.
    const gone = AbortSignal.abort();
    await expect(limiter.hash(gone, async () => 'never')).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(limiter.hashed).toBe(0);
  });

  it('hashes a few at a time, queues a few, refuses the rest at once, and never hashes for a caller that left', async () => {
    const gate = new SignupLimiter(
      redis,
      { maxPerAddress: 100, windowSeconds: 60, hashConcurrency: 1, queueLength: 2 },
      'gate-test:',
      createLogger('test', 'silent'),
    );
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const work = () =>
      new Promise<string>((resolve) => {
        running++;
        most = Math.max(most, running);
        release.push(() => {
          running--;
          resolve('hashed');
        });
      });
    const signals = [new AbortController(), new AbortController(), new AbortController(), new AbortController()];
    const first = gate.hash(signals[0]!.signal, work);
    const second = gate.hash(signals[1]!.signal, work);
    const third = gate.hash(signals[2]!.signal, work);
    // The queue is full: refused at once, asking to retry in a second.
    await expect(gate.hash(signals[3]!.signal, work)).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    // The third caller's deadline passes while it waits: it leaves, unhashed.
    signals[2]!.abort();
    await expect(third).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(release).toHaveLength(1);
    release.shift()!();
    await expect(first).resolves.toBe('hashed');
    await expect.poll(() => release.length).toBe(1);
    release.shift()!();
    await expect(second).resolves.toBe('hashed');
    expect(gate.hashed).toBe(2);
    expect(most).toBe(1);
  });
});
