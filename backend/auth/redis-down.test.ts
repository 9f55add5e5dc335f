import { setTimeout as sleep } from 'node:timers/promises';
import { redisErrors } from '@pdash/backend-shared/metrics';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcError, newUser } from './test-support.js';

const MAX_FAILURES = 3;

let backend: Backend;
const user = newUser();
let tokenBeforeOutage: string;
let tokenRevokedDuringOutage: string;

const logIn = (password = user.password, clientAddress = '203.0.113.7') =>
  backend.auth.logIn({ login: user.username, password, clientAddress });

/** Failed Redis commands of one operation, as counted in this process's metrics. */
async function redisErrorCount(operation: string) {
  const { values } = await redisErrors.get();
  return values.find((v) => v.labels.operation === operation)?.value ?? 0;
}

beforeAll(async () => {
  backend = await startBackend(['auth'], { AUTH_LOGIN_MAX_FAILURES: String(MAX_FAILURES) });
  await backend.auth.signUp(user);
  tokenBeforeOutage = (await logIn()).accessToken;
  tokenRevokedDuringOutage = (await logIn()).accessToken;
  await backend.redis.kill();
});

afterAll(async () => {
  await backend?.stop();
});

describe('with Redis down', () => {
  it('still verifies tokens, counting the failed revocation checks', async () => {
    const before = await redisErrorCount('auth_revoked_check');
    await expect(backend.auth.verifyToken({ token: tokenBeforeOutage })).resolves.toMatchObject({ username: user.username });
    expect(await redisErrorCount('auth_revoked_check')).toBe(before + 1);
  });

  it('still logs in, and the new token verifies', async () => {
    const session = await logIn();
    await expect(backend.auth.verifyToken({ token: session.accessToken })).resolves.toMatchObject({ username: user.username });
  });

  it('still refuses bad credentials and bad tokens', async () => {
    expect((await grpcError(logIn('wrong password', '203.0.113.99'))).code).toBe(Status.UNAUTHENTICATED);
    expect((await grpcError(backend.auth.verifyToken({ token: 'garbage' }))).code).toBe(Status.UNAUTHENTICATED);
  });

  it('still revokes: this process refuses the token at once', async () => {
    await backend.auth.revokeToken({ token: tokenRevokedDuringOutage });
    const err = await grpcError(backend.auth.verifyToken({ token: tokenRevokedDuringOutage }));
    expect(err).toMatchObject({ code: Status.UNAUTHENTICATED, details: 'token revoked' });
  });

  it('still limits login attempts, in memory', async () => {
    const target = newUser();
    await backend.auth.signUp(target);
    const before = await redisErrorCount('auth_login_attempt');
    for (let i = 0; i < MAX_FAILURES; i++) {
      const err = await grpcError(
        backend.auth.logIn({ login: target.username, password: 'wrong password', clientAddress: `198.18.0.${i}` }),
      );
      expect(err.code).toBe(Status.UNAUTHENTICATED);
    }
    const err = await grpcError(backend.auth.logIn({ login: target.username, password: target.password, clientAddress: '198.18.1.1' }));
    expect(err.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/^too many login attempts; retry in \d+ s$/);
    expect(await redisErrorCount('auth_login_attempt')).toBe(before + MAX_FAILURES + 1);
  });
});

describe('once Redis is back', () => {
  beforeAll(async () => {
    await backend.redis.start();
  });

  it('holds the revocation made during the outage, for every replica', async () => {
    const redis = new Redis(backend.redis.url);
    try {
      const key = `auth:revoked:${decodeJwt(tokenRevokedDuringOutage).jti}`;
      for (let i = 0; i < 100 && (await redis.exists(key)) === 0; i++) await sleep(50);
      expect(await redis.exists(key)).toBe(1);
      expect(await redis.pttl(key)).toBeGreaterThan(800_000);
    } finally {
      redis.disconnect();
    }
  });

  it('verifies through Redis again', async () => {
    const before = await redisErrorCount('auth_revoked_check');
    await expect(backend.auth.verifyToken({ token: tokenBeforeOutage })).resolves.toMatchObject({ username: user.username });
    expect(await redisErrorCount('auth_revoked_check')).toBe(before);
  });
});
