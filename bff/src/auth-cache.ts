import { hash } from 'node:crypto';
import { isRole, type Role } from '@pdash/contracts';
import type { Metadata } from 'nice-grpc';
import type { Clients } from './clients.js';

export interface SessionUser {
  id: string;
  username: string;
  /** The account's role when the auth service last answered (at most VERIFIED_TTL_MS ago). */
  role: Role;
  /** When the token stops being valid (ms since the epoch). */
  expiresAt: number;
}

/** The longest a verified token is trusted without asking the auth service again. */
export const VERIFIED_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;
/** Longer than any token the auth service issues; such text is refused without a call. */
const MAX_TOKEN_LENGTH = 4_096;

interface Entry {
  /** Shared by concurrent requests with the same token: one VerifyToken call, not one each. */
  user: Promise<SessionUser>;
  /** Trusted until then: at most VERIFIED_TTL_MS after the check, never past the token's expiry. */
  until: number;
}

/**
 * Token verification, the hot path of every protected request: the auth service's VerifyToken,
 * remembered by this replica for a few seconds under a SHA-256 of the token (the map never holds a
 * token). A logout drops the entry here at once and elsewhere within VERIFIED_TTL_MS; a role change
 * or a disable applies within VERIFIED_TTL_MS everywhere (the answer carries the account's state now).
 */
export class TokenVerifier {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly auth: Clients['auth'],
    private readonly ttlMs = VERIFIED_TTL_MS,
  ) {}

  /** The token's user; rejects with the auth service's error (UNAUTHENTICATED) otherwise. */
  verify(token: string, metadata?: Metadata): Promise<SessionUser> {
    // Never a throw: callers chain on the promise (a non-string from a query parameter once was one).
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return Promise.reject(new TokenRefused('invalid token'));
    const key = keyOf(token);
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry && entry.until > now) return entry.user;
    if (entry) this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.evict(now);

    const fresh: Entry = { user: this.ask(token, metadata), until: now + this.ttlMs };
    this.entries.set(key, fresh);
    fresh.user.then(
      (user) => {
        fresh.until = Math.min(fresh.until, user.expiresAt);
      },
      () => {
        if (this.entries.get(key) === fresh) this.entries.delete(key);
      },
    );
    return fresh.user;
  }

  /** Forgets a token at once (logout). */
  forget(token: string) {
    this.entries.delete(keyOf(token));
  }

  private async ask(token: string, metadata: Metadata | undefined): Promise<SessionUser> {
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenRefused('invalid token');
    const verified = await this.auth.verifyToken({ token }, { metadata });
    const expiresAt = verified.expiresAt ? Date.parse(verified.expiresAt) : Number.NaN;
    if (!Number.isFinite(expiresAt) || !isRole(verified.role)) throw new TokenRefused('invalid token');
    return { id: verified.userId, username: verified.username, role: verified.role, expiresAt };
  }

  /** Drops expired entries, then the oldest tenth if that was not enough (entries go in by age). */
  private evict(now: number) {
    for (const [key, entry] of this.entries) if (entry.until <= now) this.entries.delete(key);
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_ENTRIES * 0.9) break;
      this.entries.delete(key);
    }
  }
}

/** A token refused without asking the auth service. */
export class TokenRefused extends Error {}

/** One-shot crypto.hash (Node ≥ 20.12): no Hash object per request, ~1–2 µs against createHash's 3.5–5.7 here. */
const keyOf = (token: string) => hash('sha256', token, 'base64url');
