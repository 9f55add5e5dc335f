import type { Logger } from '@pdash/backend-shared/logger';
import type { Redis } from '@pdash/backend-shared/redis';
import { LocalWindows } from './local-windows.js';
import { redisFailureReporter } from './redis-failures.js';

/**
 * Counts an attempt up on the account (KEYS[1]) and the address (KEYS[2], when known), each window
 * starting on its first count; returns each count and remaining ms. An address already over its
 * own limit (ARGV[2]) is counted alone: its attempts never reach the account's count, so one
 * address cannot keep somebody else's account locked.
 */
const COUNT_ATTEMPT = `
local function count(key)
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  return n, redis.call('PTTL', key)
end
if KEYS[2] and tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then
  local a, attl = count(KEYS[2])
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1]), a, attl}
end
local result = {}
for _, key in ipairs(KEYS) do
  local n, ttl = count(key)
  table.insert(result, n)
  table.insert(result, ttl)
end
return result
`;

/** Clears the account's count; gives the address back the attempt that succeeded. */
const COUNT_SUCCESS = `
redis.call('DEL', KEYS[1])
if KEYS[2] and tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
`;

type RedisWithScripts = Redis & {
  authCountAttempt(keyCount: number, ...keysThenWindowMs: (string | number)[]): Promise<number[]>;
  authCountSuccess(keyCount: number, ...keys: string[]): Promise<number>;
};

export interface LoginLimits {
  /** Failed attempts per account within the window. */
  maxFailures: number;
  /**
   * Failed attempts per client address; below maxFailures (the default), no one address can lock
   * an account (the lower of the two applies).
   */
  maxAddressFailures: number;
  windowSeconds: number;
}

/**
 * Login attempts per account and per client address, in fixed windows kept in Redis
 * (`<prefix>auth:fail:user:<login>` and `<prefix>auth:fail:addr:<address>`).
 *
 * An attempt is counted before its password is checked, and a success clears the account's count
 * and gives the address its attempt back. Counting first keeps the limit exact under a burst of
 * parallel guesses, which would all pass a check made before any of them had failed.
 *
 * Redis down: logins go on, limited by counters in this process instead (a bounded map).
 */
export class LoginLimiter {
  private readonly redis: RedisWithScripts;
  private readonly local: LocalWindows;
  private readonly failed: ReturnType<typeof redisFailureReporter>;

  constructor(
    redis: Redis,
    private readonly limits: LoginLimits,
    private readonly keyPrefix: string,
    log: Logger,
  ) {
    if (!('authCountAttempt' in redis)) {
      redis.defineCommand('authCountAttempt', { lua: COUNT_ATTEMPT });
      redis.defineCommand('authCountSuccess', { lua: COUNT_SUCCESS });
    }
    this.redis = redis as RedisWithScripts;
    this.local = new LocalWindows(limits.windowSeconds * 1000);
    this.failed = redisFailureReporter(redis, log, 'login attempts are limited per process');
  }

  /**
   * Counts an attempt at `login` (a normalised username, or the login given when no account has
   * it) from `address` (when known). Returns the seconds to wait when over the limit, else undefined.
   */
  async attempt(login: string, address: string | undefined): Promise<number | undefined> {
    const keys = this.keys(login, address);
    const addressMax = Math.min(this.limits.maxAddressFailures, this.limits.maxFailures);
    let counts: number[];
    try {
      counts = await this.redis.authCountAttempt(keys.length, ...keys, this.limits.windowSeconds * 1000, addressMax);
    } catch (err) {
      this.failed('auth_login_attempt', err);
      counts = this.countLocally(keys, addressMax);
    }
    // [account count, its ms left, address count, its ms left]
    let waitMs = 0;
    if (counts[0]! > this.limits.maxFailures) waitMs = Math.max(counts[1]!, 1);
    if (counts.length > 2 && counts[2]! > addressMax) waitMs = Math.max(waitMs, counts[3]!, 1);
    return waitMs > 0 ? Math.ceil(waitMs / 1000) : undefined;
  }

  /** What COUNT_ATTEMPT does, in this process while Redis is away. */
  private countLocally([loginKey, addressKey]: string[], addressMax: number): number[] {
    if (addressKey !== undefined && this.local.peek(addressKey)[0] >= addressMax)
      return [...this.local.peek(loginKey!), ...this.local.add(addressKey)];
    return [...this.local.add(loginKey!), ...(addressKey === undefined ? [] : this.local.add(addressKey))];
  }

  async succeeded(login: string, address: string | undefined): Promise<void> {
    const keys = this.keys(login, address);
    this.local.delete(keys[0]!);
    if (keys[1]) this.local.giveBack(keys[1]);
    try {
      await this.redis.authCountSuccess(keys.length, ...keys);
    } catch (err) {
      this.failed('auth_login_success', err);
    }
  }

  /** The account's key first, then the address's. */
  private keys(login: string, address: string | undefined) {
    const keys = [`${this.keyPrefix}auth:fail:user:${login}`];
    if (address) keys.push(`${this.keyPrefix}auth:fail:addr:${address}`);
    return keys;
  }
}
