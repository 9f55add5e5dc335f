import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@pdash/backend-shared/config';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthService } from './main.js';
import { newUser } from './test-support.js';

async function logIn(backend: Backend) {
  const fields = newUser();
  await backend.auth.signUp(fields);
  return (await backend.auth.logIn({ login: fields.username, password: fields.password, clientAddress: '' })).accessToken;
}

describe('without AUTH_PRIVATE_KEY', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pdash-auth-key-'));
  const keyFile = join(dir, 'nested', 'auth', 'dev-signing-key.pem');
  let backend: Backend;

  beforeAll(async () => {
    backend = await startBackend(['auth'], { AUTH_KEY_FILE: keyFile });
  });

  afterAll(async () => {
    await backend?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates an Ed25519 development key at the first start, readable by its owner only', () => {
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(createPrivateKey(readFileSync(keyFile)).asymmetricKeyType).toBe('ed25519');
  });

  it('signs with that key, and keeps it across a restart', async () => {
    const token = await logIn(backend);
    const pem = readFileSync(keyFile, 'utf8');
    await expect(jwtVerify(token, createPublicKey(pem), { algorithms: ['EdDSA'] })).resolves.toBeDefined();

    await backend.stopService('auth');
    await backend.startService('auth');
    expect(readFileSync(keyFile, 'utf8')).toBe(pem);
    await expect(backend.auth.verifyToken({ token })).resolves.toBeDefined();
  });
});

describe('with AUTH_PRIVATE_KEY', () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  let backend: Backend;

  beforeAll(async () => {
    // As a single-line secret, with its line breaks written as `\n`.
    const pem = (key.export({ type: 'pkcs8', format: 'pem' }) as string).replaceAll('\n', '\\n');
    backend = await startBackend(['auth'], { AUTH_PRIVATE_KEY: pem, AUTH_KEY_FILE: '/nonexistent/must-not-be-used.pem' });
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('signs with the key it is given', async () => {
    const token = await logIn(backend);
    const { payload } = await jwtVerify(token, createPublicKey(key), { algorithms: ['EdDSA'], issuer: 'pdash-auth', audience: 'pdash' });
    expect(payload.username).toMatch(/^user_/);
  });
});

describe('a bad AUTH_PRIVATE_KEY', () => {
  it.each([
    ['not a key', 'AUTH_PRIVATE_KEY: must be a PEM private key (PKCS8)'],
    [
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      'AUTH_PRIVATE_KEY: must be an Ed25519 key, not rsa',
    ],
    [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      'AUTH_PRIVATE_KEY: must be an Ed25519 key, not ec',
    ],
    ['', 'invalid environment: AUTH_PRIVATE_KEY: must be a PEM private key, or unset'],
  ])('stops the start with a message naming the variable (%#)', async (pem, message) => {
    const start = startAuthService({ AUTH_PRIVATE_KEY: pem as string, LOG_LEVEL: 'silent' });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(message);
  });
});
