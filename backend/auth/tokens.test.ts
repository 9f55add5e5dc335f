import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServiceClient } from '@pdash/backend-shared/grpc-client';
import type { RunningService } from '@pdash/backend-shared/server';
import { AuthServiceDefinition } from '@pdash/proto/auth/v1/auth';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { Redis } from 'ioredis';
import { decodeJwt, type JWTPayload, SignJWT } from 'jose';
import { Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthService } from './main.js';
import { grpcError, newUser } from './test-support.js';

// The service's key is one the test made, so it can forge tokens that differ from genuine ones in one respect only.
const serviceKey = generateKeyPairSync('ed25519').privateKey;
const publicKeyPem = createPublicKey(serviceKey).export({ type: 'spki', format: 'pem' }) as string;
const otherKey = generateKeyPairSync('ed25519').privateKey;

let backend: Backend;
let userId: string;
let username: string;

beforeAll(async () => {
  backend = await startBackend(['auth'], { AUTH_PRIVATE_KEY: serviceKey.export({ type: 'pkcs8', format: 'pem' }) as string });
  const { user } = await backend.auth.signUp(newUser());
  userId = user!.id;
  username = user!.username;
});

afterAll(async () => {
  await backend?.stop();
});

const now = () => Math.floor(Date.now() / 1000);

function claims(overrides: JWTPayload = {}): JWTPayload {
  return {
    sub: userId,
    username,
    jti: randomBytes(16).toString('base64url'),
    iat: now(),
    exp: now() + 900,
    iss: 'pdash-auth',
    aud: 'pdash',
    ...overrides,
  };
}

function sign(payload: JWTPayload, key: KeyObject | Uint8Array = serviceKey, alg = 'EdDSA') {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function login() {
  const fields = newUser();
  await backend.auth.signUp(fields);
  return backend.auth.logIn({ login: fields.username, password: fields.password, clientAddress: '' });
}

/** Tokens VerifyToken must refuse, each differing from a genuine one in one respect, and the message it must give. */
const forgeries: [string, () => Promise<string> | string, string][] = [
  ['alg none (unsecured JWT)', () => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.`, 'invalid token'],
  [
    'alg none with a signature',
    async () => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.${(await sign(claims())).split('.')[2]}`,
    'invalid token',
  ],
  ['signed with another Ed25519 key', () => sign(claims(), otherKey), 'invalid token'],
  ['HS256 keyed with the public key PEM', () => sign(claims(), new TextEncoder().encode(publicKeyPem), 'HS256'), 'invalid token'],
  [
    'a genuine signature over a changed payload',
    async () => {
      const [header, , signature] = (await sign(claims())).split('.');
      return `${header}.${base64url(claims({ username: 'admin' }))}.${signature}`;
    },
    'invalid token',
  ],
  ['expired', () => sign(claims({ iat: now() - 1000, exp: now() - 60 })), 'token expired'],
  ['not yet valid (nbf in the future)', () => sign(claims({ nbf: now() + 60 })), 'invalid token'],
  ['issued in the future', () => sign(claims({ iat: now() + 60 })), 'invalid token'],
  ['wrong issuer', () => sign(claims({ iss: 'someone-else' })), 'invalid token'],
  ['wrong audience', () => sign(claims({ aud: 'another-app' })), 'invalid token'],
  ['no audience', () => sign(claims({ aud: undefined })), 'invalid token'],
  ['no expiry', () => sign(claims({ exp: undefined })), 'invalid token'],
  ['no jti', () => sign(claims({ jti: undefined })), 'invalid token'],
  ['a subject that is not a user id', () => sign(claims({ sub: 'admin' })), 'invalid token'],
  ['truncated', async () => (await sign(claims())).slice(0, -12), 'invalid token'],
  ['truncated to two parts', async () => (await sign(claims())).split('.').slice(0, 2).join('.'), 'invalid token'],
  ['empty', () => '', 'invalid token'],
  ['garbage', () => 'not.a.token', 'invalid token'],
  ['random bytes', () => randomBytes(64).toString('base64'), 'invalid token'],
  ['huge', () => `${'a'.repeat(100_000)}.b.c`, 'invalid token'],
];

describe('VerifyToken', () => {
  it('accepts a genuine token, including one made outside the service with its key', async () => {
    const token = await sign(claims());
    const verified = await backend.auth.verifyToken({ token });
    expect(verified).toEqual({ userId, username, expiresAt: new Date(decodeJwt(token).exp! * 1000).toISOString(), role: 'viewer' });
  });

  it('accepts a token within the clock tolerance', async () => {
    await expect(backend.auth.verifyToken({ token: await sign(claims({ iat: now() + 3, nbf: now() + 3 })) })).resolves.toBeDefined();
    await expect(backend.auth.verifyToken({ token: await sign(claims({ exp: now() - 2 })) })).resolves.toBeDefined();
  });

  it.each(forgeries)('refuses a token that is %s', async (_, make, message) => {
    const err = await grpcError(backend.auth.verifyToken({ token: await make() }));
    expect(err.code).toBe(Status.UNAUTHENTICATED);
    expect(err.details).toBe(message);
  });

  it('refuses a token once it expires, also after having accepted it', async () => {
    // Accepted for one to two more seconds (exp is in whole seconds, the tolerance is 5 s).
    const token = await sign(claims({ exp: Math.ceil(Date.now() / 1000) - 4 }));
    await expect(backend.auth.verifyToken({ token })).resolves.toBeDefined();
    await sleep(2_100);
    const err = await grpcError(backend.auth.verifyToken({ token }));
    expect(err).toMatchObject({ code: Status.UNAUTHENTICATED, details: 'token expired' });
  });
});

describe('RevokeToken', () => {
  it('makes a token stop working, and keeps its jti on the Redis deny-list until it expires', async () => {
    const session = await login();
    await backend.auth.verifyToken({ token: session.accessToken });
    await backend.auth.revokeToken({ token: session.accessToken });
    const err = await grpcError(backend.auth.verifyToken({ token: session.accessToken }));
    expect(err).toMatchObject({ code: Status.UNAUTHENTICATED, details: 'token revoked' });

    const redis = new Redis(backend.redis.url);
    try {
      const ttl = await redis.pttl(`auth:revoked:${decodeJwt(session.accessToken).jti}`);
      const lifetime = Date.parse(session.expiresAt!) - Date.now();
      expect(ttl).toBeGreaterThan(lifetime);
      expect(ttl).toBeLessThanOrEqual(lifetime + 6_000); // plus the clock tolerance
    } finally {
      redis.disconnect();
    }
  });

  it('leaves the user’s other tokens working', async () => {
    const fields = newUser();
    await backend.auth.signUp(fields);
    const [a, b] = await Promise.all(
      [1, 2].map(() => backend.auth.logIn({ login: fields.username, password: fields.password, clientAddress: '' })),
    );
    await backend.auth.revokeToken({ token: a!.accessToken });
    await expect(backend.auth.verifyToken({ token: b!.accessToken })).resolves.toMatchObject({ username: fields.username });
  });

  it('is idempotent for a revoked token', async () => {
    const session = await login();
    await backend.auth.revokeToken({ token: session.accessToken });
    await expect(backend.auth.revokeToken({ token: session.accessToken })).resolves.toEqual({});
  });

  it.each(forgeries)('refuses to revoke a token that is %s', async (_, make) => {
    const err = await grpcError(backend.auth.revokeToken({ token: await make() }));
    expect(err.code).toBe(Status.UNAUTHENTICATED);
  });

  describe('with a second auth replica on the same Redis', () => {
    let replica: RunningService;
    let replicaClient: ReturnType<typeof createServiceClient<typeof AuthServiceDefinition>>;

    beforeAll(async () => {
      replica = await startAuthService({ ...backend.env, GRPC_PORT: '0' });
      replicaClient = createServiceClient(AuthServiceDefinition, `127.0.0.1:${replica.port}`);
    });

    afterAll(async () => {
      replicaClient?.close();
      await replica?.shutdown();
    });

    it('refuses a token revoked through the other replica, even one it had already accepted', async () => {
      const session = await login();
      await expect(replicaClient.client.verifyToken({ token: session.accessToken })).resolves.toMatchObject({
        username: session.user!.username,
      });
      await backend.auth.revokeToken({ token: session.accessToken });
      const err = await grpcError(replicaClient.client.verifyToken({ token: session.accessToken }));
      expect(err).toMatchObject({ code: Status.UNAUTHENTICATED, details: 'token revoked' });
    });
  });
});
