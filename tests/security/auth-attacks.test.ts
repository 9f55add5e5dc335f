import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { adminToken, inviteCode, newUser } from '@pdash/testing/bff';
import { startTestStack, type TestStack } from '@pdash/testing/stack';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Attacks on authentication, end to end through Nginx: forged and doctored tokens, CSRF with the
 * session cookie, brute force (per username and per address), user enumeration by timing, and
 * secrets in answers or logs. (The token rules are unit-tested in backend/auth/tokens.test.ts;
 * here they are checked as an attacker meets them.)
 */
const MAX_FAILURES = 5;
const signing = generateKeyPairSync('ed25519');
const PRIVATE_PEM = signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
let stack: TestStack;
let redis: Redis;
/** Every answer body this suite saw, to look for secrets in. */
const answers: string[] = [];
/** Every password this suite used. */
const passwords: string[] = [];

beforeAll(async () => {
  stack = await startTestStack({ AUTH_PRIVATE_KEY: PRIVATE_PEM, AUTH_LOGIN_MAX_FAILURES: String(MAX_FAILURES) });
  redis = new Redis(stack.redisUrl, { lazyConnect: true });
  // The admin who invites this file's users logs in before any test fails logins from this address.
  await adminToken(stack.url);
  await redis.connect();
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; via?: string } = {},
) {
  const response = await fetch(`${options.via ?? stack.url}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  answers.push(text, JSON.stringify([...response.headers]));
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, headers: response.headers };
}

/** Clears the login limiter's counters (Nginx gives every test request the address 127.0.0.1). */
async function resetLimits() {
  const keys = await redis.keys('auth:fail:*');
  if (keys.length > 0) await redis.del(...keys);
}

async function account() {
  const fields = newUser(`pw-${randomBytes(9).toString('base64url')}`);
  passwords.push(fields.password);
  const code = await inviteCode(stack.url, 'editor');
  expect((await call('POST', '/api/auth/signup', { body: { ...fields, inviteCode: code } })).status).toBe(201);
  const login = await call('POST', '/api/auth/login', { body: { username: fields.username, password: fields.password } });
  expect(login.status).toBe(200);
  return {
    fields,
    token: login.body.accessToken as string,
    userId: login.body.user.id as string,
    cookie: login.headers.get('set-cookie') ?? '',
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function signed(claims: Record<string, unknown>, key: KeyObject = signing.privateKey, header: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ username: 'mallory', ...claims })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', ...header })
    .setSubject((claims.sub as string) ?? 'a'.repeat(24))
    .setJti(randomBytes(8).toString('hex'))
    .setIssuedAt((claims.iat as number) ?? now)
    .setExpirationTime((claims.exp as number) ?? now + 600)
    .setIssuer((claims.iss as string) ?? 'pdash-auth')
    .setAudience((claims.aud as string) ?? 'pdash')
    .sign(key);
}

describe('doctored tokens are refused (401) on REST and tRPC', () => {
  it('alg none, another key, algorithm confusion, expired, not yet valid, wrong issuer or audience, truncated', async () => {
    const { token: genuine, userId } = await account();
    const now = Math.floor(Date.now() / 1000);
    const [header, payload] = genuine.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const publicPem = createPublicKey(signing.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(publicPem));
    const other = generateKeyPairSync('ed25519').privateKey;
    const forged: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg none, no dot': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}`,
      'another key': await signed({ sub: userId }, other),
      'HS256 keyed with the public key': hs256,
      expired: await signed({ sub: userId, iat: now - 3_600, exp: now - 60 }),
      'not yet valid (nbf)': await new SignJWT({ ...claims, nbf: now + 3_600 })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
        .sign(signing.privateKey),
      'issued in the future': await signed({ sub: userId, iat: now + 3_600, exp: now + 7_200 }),
      'wrong issuer': await signed({ sub: userId, iss: 'someone-else' }),
      'wrong audience': await signed({ sub: userId, aud: 'another-app' }),
      'payload swapped, old signature': `${header}.${b64({ ...claims, sub: 'b'.repeat(24) })}.${genuine.split('.')[2]}`,
      truncated: genuine.slice(0, -10),
      'header and payload only': `${header}.${payload}`,
      'signature dropped': `${header}.${payload}.`,
      'a kid pointing elsewhere': await signed({ sub: userId }, other, { kid: '../../dev/null', jku: 'http://127.0.0.1:1/keys' }),
      'over-long token': `${header}.${'A'.repeat(5_000)}.x`,
    };
    for (const [what, token] of Object.entries(forged)) {
      const rest = await call('GET', '/api/auth/me', { token });
      expect(rest.status, what).toBe(401);
      expect(rest.body.error.message, what).toMatch(/^token: /);
      const trpc = await call('GET', '/trpc/customers.list', { token });
      expect(trpc.status, what).toBe(401);
      expect((await call('POST', '/api/customers', { token, body: { name: 'forged' } })).status, what).toBe(401);
    }
    // A token too big for a header line: Nginx refuses the request itself, with a JSON message.
    const huge = await call('GET', '/api/auth/me', { token: `${header}.${'A'.repeat(10_000)}.x` });
    expect(huge.status).toBe(400);
    expect(huge.body.error.message).toMatch(/headers/);
    // The genuine one works, so the refusals above are about the doctoring.
    expect((await call('GET', '/api/auth/me', { token: genuine })).status).toBe(200);
    expect((await call('GET', '/api/auth/me', { headers: { authorization: `Basic ${genuine}` } })).status).toBe(401);
  });

  it('a revoked token stops working on every replica (within the 5 s verification cache)', async () => {
    // Each replica asked directly: Nginx keeps one client on one replica.
    const replicas = stack.bffPorts.map((port) => `http://127.0.0.1:${port}`);
    const { token } = await account();
    expect((await call('POST', '/api/auth/logout', { token })).status).toBe(200);
    // Never used before the logout elsewhere: refused at once, by every replica.
    const served = new Set<string>();
    for (const via of replicas) {
      for (let i = 0; i < 3; i++) {
        const answer = await call('GET', '/api/auth/me', { token, via });
        expect(answer.status).toBe(401);
        served.add(answer.headers.get('x-served-by') ?? '');
      }
    }
    expect(served.size).toBe(2);
    // Used on both replicas first: the other replica trusts its cached check for at most 5 s.
    const second = await account();
    for (const via of replicas)
      for (let i = 0; i < 2; i++) expect((await call('GET', '/api/auth/me', { token: second.token, via })).status).toBe(200);
    expect((await call('POST', '/api/auth/logout', { token: second.token })).status).toBe(200);
    await expect
      .poll(
        async () =>
          (await Promise.all(replicas.map((via) => call('GET', '/api/auth/me', { token: second.token, via })))).map((a) => a.status),
        { timeout: 7_000, interval: 500 },
      )
      .toEqual([401, 401]);
  });
});

describe('CSRF', () => {
  it('refuses a cross-origin POST that carries the session cookie, and takes a same-origin one', async () => {
    const { cookie } = await account();
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const session = cookie.split(';')[0]!;
    const before = (await call('GET', '/api/customers?q=csrf', { headers: { cookie: session } })).body.total;
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:1`, 'http://localhost.evil.example']) {
      const trpc = await call('POST', '/trpc/customers.create', { body: { name: 'csrf' }, headers: { cookie: session, origin } });
      expect(trpc.status, origin).toBe(403);
      const rest = await call('POST', '/api/customers', { body: { name: 'csrf' }, headers: { cookie: session, origin } });
      expect(rest.status, origin).toBe(403);
      expect((await call('POST', '/api/auth/logout', { headers: { cookie: session, origin } })).status, origin).toBe(403);
    }
    expect((await call('GET', '/api/customers?q=csrf', { headers: { cookie: session } })).body.total).toBe(before);
    const same = await call('POST', '/api/customers', { body: { name: 'csrf' }, headers: { cookie: session, origin: stack.url } });
    expect(same.status).toBe(201);
  });
});

describe('brute force', () => {
  it(`locks a username after ${MAX_FAILURES} failures, whatever the address`, async () => {
    await resetLimits();
    const { fields } = await account();
    for (let i = 0; i < MAX_FAILURES; i++) {
      expect((await call('POST', '/api/auth/login', { body: { username: fields.username, password: `wrong-${i}-password` } })).status).toBe(
        401,
      );
    }
    // Now even the right password is refused, with Retry-After.
    const locked = await call('POST', '/api/auth/login', { body: { username: fields.username, password: fields.password } });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // By email too, and from a "new" address (the address counters cleared).
    await redis.del(...(await redis.keys('auth:fail:addr:*')));
    const byEmail = await call('POST', '/trpc/auth.login', { body: { username: fields.email, password: fields.password } });
    expect(byEmail.status).toBe(429);
  });

  it(`locks an address after ${MAX_FAILURES} failures, whatever the usernames`, async () => {
    await resetLimits();
    const { fields } = await account();
    for (let i = 0; i < MAX_FAILURES; i++) {
      const username = `nobody_${randomBytes(4).toString('hex')}`;
      expect((await call('POST', '/api/auth/login', { body: { username, password: 'whatever-password' } })).status).toBe(401);
    }
    const locked = await call('POST', '/api/auth/login', { body: { username: fields.username, password: fields.password } });
    expect(locked.status).toBe(429);
    // A spoofed X-Real-IP / X-Forwarded-For does not get around it: Nginx sets them from the socket.
    const spoofed = await call('POST', '/api/auth/login', {
      body: { username: fields.username, password: fields.password },
      headers: { 'x-real-ip': '203.0.113.9', 'x-forwarded-for': '203.0.113.9' },
    });
    expect(spoofed.status).toBe(429);
    await resetLimits();
  });
});

describe('user enumeration', () => {
  it('an unknown user and a wrong password take the same time (median of 30 each, within 25 %)', async () => {
    const { fields } = await account();
    const time = async (username: string) => {
      await resetLimits();
      const started = performance.now();
      const answer = await call('POST', '/api/auth/login', { body: { username, password: 'not-the-password' } });
      const ms = performance.now() - started;
      expect(answer.status).toBe(401);
      expect(answer.body.error.message).toBe('invalid username or password');
      return ms;
    };
    await time(fields.username); // warm-up
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 30; i++) {
      unknown.push(await time(`ghost_${randomBytes(4).toString('hex')}`));
      wrong.push(await time(fields.username));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const [u, w] = [median(unknown), median(wrong)];
    expect(Math.abs(u - w) / Math.max(u, w), `unknown ${u.toFixed(1)} ms, wrong password ${w.toFixed(1)} ms`).toBeLessThan(0.25);
    await resetLimits();
  });
});

describe('secrets', () => {
  it('no password or hash in any answer or log line', async () => {
    expect(passwords.length).toBeGreaterThan(3);
    const everything = [...answers, ...stack.logs];
    for (const password of passwords) expect(everything.filter((line) => line.includes(password))).toEqual([]);
    expect(everything.filter((line) => line.includes('$argon2'))).toEqual([]);
    expect(everything.filter((line) => /passwordHash/i.test(line))).toEqual([]);
    expect(stack.logs.filter((line) => /exited \(/.test(line))).toEqual([]);
  });
});
