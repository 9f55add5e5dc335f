import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '@pdash/backend-shared/config';
import type { Logger } from '@pdash/backend-shared/logger';
import { type CryptoKey, importPKCS8, importSPKI } from 'jose';

/** The Ed25519 pair that signs and checks access tokens, imported once for jose. */
export interface SigningKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * The signing key: `pem` (AUTH_PRIVATE_KEY) in production; without it, a development key made at
 * the first start and kept in `keyFile`, so tokens outlive a restart.
 */
export async function loadSigningKeys(options: { pem?: string; keyFile: string; log: Logger }): Promise<SigningKeys> {
  const source = options.pem === undefined ? resolve(options.keyFile) : 'AUTH_PRIVATE_KEY';
  const pem = options.pem ?? readOrCreateDevelopmentKey(source, options.log);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ConfigError(`${source}: must be a PEM private key (PKCS8)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`${source}: must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  }
  const [privateKey, publicKey] = await Promise.all([
    importPKCS8(key.export({ type: 'pkcs8', format: 'pem' }) as string, 'EdDSA'),
    importSPKI(createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string, 'EdDSA'),
  ]);
  return { privateKey, publicKey };
}

function readOrCreateDevelopmentKey(file: string, log: Logger): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  // Written aside, then linked into place: when several services start at once, the first link
  // wins and every one of them reads the same complete key.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, pem, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
    log.warn({ file }, 'generated a development signing key; set AUTH_PRIVATE_KEY in production');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(draft);
  }
  return readFileSync(file, 'utf8');
}
