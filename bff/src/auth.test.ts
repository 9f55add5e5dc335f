import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Bff,
  newUser,
  randomAddress,
  rest,
  signedIn,
  signUp,
  startStack,
  startTestBff,
  trpcClient,
  trpcError,
} from '@pdash/testing/bff';
import { importPKCS8, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VERIFIED_TTL_MS } from './auth-cache.js';

const privatePem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const MAX_FAILURES = 3;

let stack: Awaited<ReturnType<typeof startStack>>;
let url: string;

beforeAll(async () => {
  stack = await startStack({ AUTH_PRIVATE_KEY: privatePem, AUTH_LOGIN_MAX_FAILURES: String(MAX_FAILURES) });
  url = stack.bff.url;
});
afterAll(() => stack?.stop());

/** A token signed with the auth service's key, with claims of our choosing. */
async function forge(claims: { sub: string; username: string; iat: number; exp: number }) {
  const key = await importPKCS8(privatePem, 'EdDSA');
  return new SignJWT({ username: claims.username })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setSubject(claims.sub)
    .setJti(randomBytes(16).toString('base64url'))
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .setIssuer('pdash-auth')
    .setAudience('pdash')
    .sign(key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

describe('sign-up and login', () => {
  test('signup, login by username or email, me — via tRPC', async () => {
    const anonymous = trpcClient(url);
    const fields = newUser();
    const { user } = await anonymous.auth.signup.mutate(fields);
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      username: fields.username,
      email: fields.email,
      role: 'viewer', // SIGNUP_MODE=open here (tests/support/backend.ts); roles.test.ts tests invitations
      disabled: false,
      createdAt: expect.any(String),
    });
    const byName = await anonymous.auth.login.mutate({ username: fields.username, password: fields.password });
    expect(byName).toEqual({ accessToken: expect.any(String), expiresAt: expect.any(String), user });
    expect(Date.parse(byName.expiresAt)).toBeGreaterThan(Date.now());
    const byEmail = await anonymous.auth.login.mutate({ username: fields.email, password: fields.password });
    expect(await trpcClient(url, { token: byEmail.accessToken }).auth.me.query()).toEqual(user);

    await trpcError(anonymous.auth.signup.mutate(fields), 'CONFLICT', /^username: /);
    await trpcError(anonymous.auth.signup.mutate({ ...newUser(), email: fields.email }), 'CONFLICT', /^email: /);
    await trpcError(anonymous.auth.signup.mutate({ ...newUser(), password: 'short' }), 'BAD_REQUEST', /^password: /);
    await trpcError(
      anonymous.auth.login.mutate({ username: fields.username, password: 'wrong password' }),
      'UNAUTHORIZED',
      /invalid username or password/,
    );
  });

  test('signup, login, me, logout — via REST', async () => {
    const fields = newUser();
    const signup = await rest(url, 'POST', '/api/auth/signup', { body: fields });
    expect(signup.status).toBe(201);
    expect(signup.body.user).toMatchObject({ username: fields.username, email: fields.email });
    expect(JSON.stringify(signup.body)).not.toMatch(/password|hash/i);
    expect(await rest(url, 'POST', '/api/auth/signup', { body: fields })).toMatchObject({
      status: 409,
      body: { error: { code: 'CONFLICT' } },
    });
    expect(await rest(url, 'POST', '/api/auth/login', { body: { username: fields.username, password: 'nope nope' } })).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHORIZED' } },
    });
    const login = await rest(url, 'POST', '/api/auth/login', { body: { username: fields.username, password: fields.password } });
    expect(login.status).toBe(200);
    const token = login.body.accessToken;
    expect(await rest(url, 'GET', '/api/auth/me', { token })).toMatchObject({ status: 200, body: signup.body.user });
    expect(await rest(url, 'POST', '/api/auth/logout', { token })).toMatchObject({ status: 200, body: { ok: true } });
    expect(await rest(url, 'GET', '/api/auth/me', { token })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
  });

  test('too many logins is TOO_MANY_REQUESTS with Retry-After, via tRPC and REST', async () => {
    const address = randomAddress();
    const anonymous = trpcClient(url, { headers: { 'x-real-ip': address } });
    const fields = newUser();
    await anonymous.auth.signup.mutate(fields);
    for (let i = 0; i < MAX_FAILURES; i++) {
      await trpcError(anonymous.auth.login.mutate({ username: fields.username, password: 'wrong password' }), 'UNAUTHORIZED');
    }
    await trpcError(
      anonymous.auth.login.mutate({ username: fields.username, password: fields.password }),
      'TOO_MANY_REQUESTS',
      /retry in \d+ s/,
    );
    const login = { username: fields.username, password: fields.password };
    const viaRest = await rest(url, 'POST', '/api/auth/login', { body: login });
    expect(viaRest).toMatchObject({ status: 429, body: { error: { code: 'TOO_MANY_REQUESTS' } } });
    expect(Number(viaRest.headers.get('retry-after'))).toBeGreaterThan(0);
    const viaTrpc = await fetch(`${url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(login),
    });
    expect(viaTrpc.status).toBe(429);
    expect(Number(viaTrpc.headers.get('retry-after'))).toBeGreaterThan(0);

    // The address is limited too (it reaches the auth service): another account from it is refused,
    // the same account from elsewhere is not.
    const other = newUser();
    await anonymous.auth.signup.mutate(other);
    await trpcError(anonymous.auth.login.mutate({ username: other.username, password: other.password }), 'TOO_MANY_REQUESTS');
    expect(await trpcClient(url).auth.login.mutate({ username: other.username, password: other.password })).toHaveProperty('accessToken');
  });
});

describe('tokens', () => {
  test('no, garbage, tampered, expired, alg none and logged-out tokens are UNAUTHORIZED; a good one works', async () => {
    const session = await signedIn(url);
    const { id: sub, username } = session.user;
    const now = Math.floor(Date.now() / 1000);
    const [header, payload, signature] = session.accessToken.split('.');
    const bad: Record<string, string | undefined> = {
      none: undefined,
      garbage: 'not-a-token',
      tampered: `${header}.${b64({ ...claimsOf(session.accessToken), username: 'admin' })}.${signature}`,
      badSignature: `${header}.${payload}.${signature!.slice(0, -4)}AAAA`,
      expired: await forge({ sub, username, iat: now - 3_600, exp: now - 600 }),
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claimsOf(session.accessToken), exp: now + 600 })}.`,
      huge: 'a'.repeat(5_000),
    };
    // The forger is right: the same signing with a current expiry is accepted.
    const forged = await forge({ sub, username, iat: now, exp: now + 600 });
    expect(await trpcClient(url, { token: forged }).auth.me.query()).toMatchObject({ id: sub });

    for (const [name, token] of Object.entries(bad)) {
      await trpcError(trpcClient(url, { token }).customers.list.query(), 'UNAUTHORIZED');
      const response = await rest(url, 'GET', '/api/customers', { token });
      expect(response.status, name).toBe(401);
      expect(response.body.error.code, name).toBe('UNAUTHORIZED');
      expect(response.body.error.message, name).toMatch(/^token: /);
    }
    expect((await rest(url, 'GET', '/api/customers', { headers: { authorization: 'Basic dXNlcjpwYXNz' } })).status).toBe(401);

    await session.client.auth.logout.mutate();
    await trpcError(session.client.auth.me.query(), 'UNAUTHORIZED', /revoked/);
    await trpcError(session.client.auth.logout.mutate(), 'UNAUTHORIZED');
  });

  test('a live subscription ends with UNAUTHORIZED when its token expires', async () => {
    const { user } = await signedIn(url);
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await forge({ sub: user.id, username: user.username, iat: now, exp: now + 2 });
    const failure = await new Promise<unknown>((resolve) => {
      const subscription = trpcClient(url, { token: shortLived }).orders.onChange.subscribe(
        {},
        {
          onError: (err) => {
            subscription.unsubscribe();
            resolve(err);
          },
        },
      );
      setTimeout(() => resolve('still open'), 6_000).unref();
    });
    expect(failure).toMatchObject({ data: { code: 'UNAUTHORIZED' }, message: 'token: expired; log in again' });
  });

  test('a logout through one replica reaches another within the cache time', async () => {
    let other: Bff | undefined;
    try {
      other = await startTestBff(stack.backend);
      const session = await signedIn(url);
      const elsewhere = trpcClient(other.url, { token: session.accessToken });
      await elsewhere.auth.me.query(); // now verified and cached by the other replica
      await session.client.auth.logout.mutate();
      const loggedOut = Date.now();
      for (;;) {
        const result = await elsewhere.auth.me.query().then(
          () => 'accepted',
          () => 'refused',
        );
        if (result === 'refused') break;
        expect(Date.now() - loggedOut).toBeLessThan(VERIFIED_TTL_MS + 500);
        await sleep(100);
      }
    } finally {
      await other?.close();
    }
  });
});

describe('session cookie', () => {
  async function cookieLogin() {
    const fields = newUser();
    await signUp(url, fields, 'editor');
    const response = await fetch(`${url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-real-ip': randomAddress() },
      body: JSON.stringify({ username: fields.username, password: fields.password }),
    });
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie') ?? '';
    return { setCookie, cookie: setCookie.split(';')[0]! };
  }

  test('login sets an httpOnly SameSite=Strict cookie that authenticates', async () => {
    const { setCookie, cookie } = await cookieLogin();
    expect(setCookie).toMatch(/^pdash_session=[\w-]+\.[\w-]+\.[\w-]+; /);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(Number(/Max-Age=(\d+)/.exec(setCookie)?.[1])).toBeGreaterThan(60);
    expect(setCookie).not.toMatch(/Secure/); // COOKIE_SECURE defaults to false for local http
    expect(await rest(url, 'GET', '/api/auth/me', { headers: { cookie } })).toMatchObject({ status: 200 });
    const me = await fetch(`${url}/trpc/auth.me`, { headers: { cookie } });
    expect(me.status).toBe(200);
  });

  test('a cross-origin mutation with the cookie is refused; a same-origin one is not', async () => {
    const { cookie } = await cookieLogin();
    const sameOrigin = await rest(url, 'POST', '/api/customers', { headers: { cookie, origin: url }, body: { name: 'Mine' } });
    expect(sameOrigin.status).toBe(201);
    const evil = { cookie, origin: 'https://evil.example' };
    const viaRest = await rest(url, 'POST', '/api/customers', { headers: evil, body: { name: 'Theirs' } });
    expect(viaRest).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', message: expect.stringMatching(/^origin: /) } } });
    const viaTrpc = await fetch(`${url}/trpc/customers.create`, {
      method: 'POST',
      headers: { ...evil, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Theirs' }),
    });
    expect(viaTrpc.status).toBe(403);
    expect(viaTrpc.headers.get('access-control-allow-origin')).toBeNull();
    const list = await rest(url, 'GET', `/api/customers?q=theirs`, { headers: { cookie } });
    expect(list.body.total).toBe(0);
  });

  test('logout clears the cookie and revokes its token', async () => {
    const { cookie } = await cookieLogin();
    const response = await fetch(`${url}/api/auth/logout`, { method: 'POST', headers: { cookie, origin: url } });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(/^pdash_session=; .*Max-Age=0/);
    expect((await rest(url, 'GET', '/api/auth/me', { headers: { cookie } })).status).toBe(401);
  });
});

// Last: it stops the auth service.
describe('health', () => {
  test('/healthz is 200 while the auth service answers, 503 when it is gone', async () => {
    const session = await signedIn(url);
    const healthy = await fetch(`${url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toEqual({ ok: true, replica: stack.bff.replica });

    await stack.backend.stopService('auth');
    const down = await fetch(`${url}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ ok: false, replica: stack.bff.replica });
    // A token this replica has not verified yet cannot be: the service is unavailable (not "unauthorized").
    await sleep(VERIFIED_TTL_MS);
    const unverifiable = await rest(url, 'GET', '/api/customers', { token: session.accessToken });
    expect(unverifiable).toMatchObject({
      status: 503,
      body: { error: { code: 'SERVICE_UNAVAILABLE', message: 'auth service unavailable; try again' } },
    });
  });
});
