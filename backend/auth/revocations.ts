import type { Logger } from '@pdash/backend-shared/logger';
import type { Redis } from '@pdash/backend-shared/redis';
import { redisFailureReporter } from './redis-failures.js';
import { CLOCK_TOLERANCE_SECONDS } from './tokens.js';

const MAX_LOCAL_ENTRIES = 100_000;

/**
 * The deny-list of revoked tokens, by jti: one Redis key per token (`<prefix>auth:revoked:<jti>`),
 * which expires when the token would stop being accepted anyway.
 *
 * Redis down: checks do not fail the call. They fall back to the tokens revoked through this
 * process, which it remembers until they expire, and the revocations it could not write are
 * written when Redis is back. The trade-off, availability over strictness: during an outage, a
 * token revoked through another replica keeps working here until Redis returns or the token
 * expires (AUTH_TOKEN_TTL_SECONDS at most), while logins and every authenticated call go on.
 */
export class RevocationList {
  /** jti → when its token stops being accepted (ms); revocations made through this process. */
  private readonly local = new Map<string, number>();
  /** Revocations Redis has not heard of yet. */
  private readonly unsent = new Set<string>();
  private readonly failed: ReturnType<typeof redisFailureReporter>;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    log: Logger,
  ) {
    this.failed = redisFailureReporter(redis, log, 'revocation checks use this process’s own deny-list');
    redis.on('ready', () => void this.sendUnsent());
  }

  async isRevoked(jti: string): Promise<boolean> {
    if (this.local.has(jti)) return true;
    try {
      return (await this.redis.exists(this.key(jti))) === 1;
    } catch (err) {
      this.failed('auth_revoked_check', err);
      return false;
    }
  }

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    const until = expiresAt.getTime() + CLOCK_TOLERANCE_SECONDS * 1000;
    this.remember(jti, until);
    try {
      await this.redis.set(this.key(jti), '1', 'PXAT', until);
    } catch (err) {
      this.failed('auth_revoke', err);
      this.unsent.add(jti);
    }
  }

  private key(jti: string) {
    return `${this.keyPrefix}auth:revoked:${jti}`;
  }

  private remember(jti: string, until: number) {
    if (this.local.size >= MAX_LOCAL_ENTRIES) this.forgetExpired();
    // Still full of live entries: drop the oldest revocation, the first to expire (TTLs are alike).
    if (this.local.size >= MAX_LOCAL_ENTRIES) this.local.delete(this.local.keys().next().value as string);
    this.local.set(jti, until);
  }

  private forgetExpired() {
    const now = Date.now();
    for (const [jti, until] of this.local) if (until <= now) this.local.delete(jti);
  }

  private async sendUnsent() {
    const now = Date.now();
    for (const jti of this.unsent) if ((this.local.get(jti) ?? 0) <= now) this.unsent.delete(jti);
    const pending = [...this.unsent];
    if (pending.length === 0) return;
    try {
      const batch = this.redis.multi();
      for (const jti of pending) batch.set(this.key(jti), '1', 'PXAT', this.local.get(jti)!);
      await batch.exec();
      for (const jti of pending) this.unsent.delete(jti);
    } catch (err) {
      this.failed('auth_revoke_resend', err);
    }
  }
}
