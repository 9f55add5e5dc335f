import { randomBytes } from 'node:crypto';
import { ServerError, Status } from '@pdash/backend-shared/errors';
import { isObjectIdHex } from '@pdash/backend-shared/ids';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { SigningKeys } from './keys.js';

export interface TokenClaims {
  userId: string;
  username: string;
  jti: string;
  expiresAt: Date;
}

/** How far apart the clocks of the issuing and the checking machines may be. */
export const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_TOKEN_LENGTH = 4_096;
const MAX_CACHED_TOKENS = 10_000;

export const unauthenticated = (message: string) => new ServerError(Status.UNAUTHENTICATED, message);

/**
 * Access tokens: compact JWTs signed with Ed25519 (`alg: EdDSA`), carrying sub (user id), jti,
 * iat, exp, iss, aud and `username`. Revocation is not this class's business (see revocations.ts).
 */
export class AccessTokens {
  /**
   * Tokens whose signature and claims have been checked, by their exact text. An Ed25519
   * verification costs 0.1-0.2 ms, most of VerifyToken's 0.3 ms budget, while every request of a
   * session presents the same token: a hit only re-checks the expiry. Only genuine tokens get in,
   * so the cache holds at most what this service has signed (bounded all the same).
   */
  private readonly verified = new Map<string, TokenClaims>();

  constructor(
    private readonly keys: SigningKeys,
    private readonly options: { issuer: string; audience: string; ttlSeconds: number },
  ) {}

  /** `role` goes in the token as it is at login; what counts is the account's role when the token is checked. */
  async issue(user: { id: string; username: string; role: string }): Promise<{ token: string; claims: TokenClaims }> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const expiresAt = issuedAt + this.options.ttlSeconds;
    const jti = randomBytes(16).toString('base64url');
    const token = await new SignJWT({ username: user.username, role: user.role })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
      .setSubject(user.id)
      .setJti(jti)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .sign(this.keys.privateKey);
    return { token, claims: { userId: user.id, username: user.username, jti, expiresAt: new Date(expiresAt * 1000) } };
  }

  /** The claims of a genuine, current token; anything else is UNAUTHENTICATED. */
  async verify(token: string): Promise<TokenClaims> {
    const cached = this.verified.get(token);
    if (cached) {
      if (!isExpired(cached.expiresAt)) return cached;
      this.verified.delete(token);
      throw unauthenticated('token expired');
    }
    const claims = await this.check(token);
    // Entries go in verification order, so the first is the one most likely to have expired.
    if (this.verified.size >= MAX_CACHED_TOKENS) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, claims);
    return claims;
  }

  private async check(token: string): Promise<TokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw unauthenticated('invalid token');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys.publicKey, {
        algorithms: ['EdDSA'], // pinned: `none`, HS256 keyed with our public key and the like are refused
        typ: 'JWT',
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw unauthenticated('token expired');
      if (err instanceof errors.JOSEError) throw unauthenticated('invalid token');
      throw err;
    }
    const { sub, jti, iat, exp, username } = payload;
    // jose checks nbf but not an iat in the future.
    const issuedInFuture = typeof iat !== 'number' || iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS;
    if (
      issuedInFuture ||
      !isObjectIdHex(sub) ||
      typeof jti !== 'string' ||
      !jti ||
      typeof username !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw unauthenticated('invalid token');
    }
    return { userId: sub, username, jti, expiresAt: new Date(exp * 1000) };
  }
}

/** jose's rule: expired once `exp` is more than the tolerance in the past. */
function isExpired(expiresAt: Date) {
  return expiresAt.getTime() <= Date.now() - CLOCK_TOLERANCE_SECONDS * 1000;
}
