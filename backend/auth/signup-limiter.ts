import { failure, ServerError, Status } from '@pdash/backend-shared/errors';
import type { Logger } from '@pdash/backend-shared/logger';
import type { Redis } from '@pdash/backend-shared/redis';
import { LocalWindows } from './local-windows.js';
import { redisFailureReporter } from './redis-failures.js';

/** Counts one attempt in a fixed window starting at the first; returns the count and ms left. */
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`;

/** Gives a counted attempt back (a sign-up that made no account). */
const REFUND = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
`;

type RedisWithCount = Redis & {
  authCountSignup(keyCount: number, key: string, windowMs: number): Promise<[number, number]>;
  authRefundSignup(keyCount: number, key: string): Promise<number>;
};

export interface SignupLimits {
  /** Sign-ups that hash a password, per client address within the window. */
  maxPerAddress: number;
  windowSeconds: number;
  /** Passwords hashed for sign-ups at once (each holds a thread of the pool logins verify on). */
  hashConcurrency: number;
  /** Sign-ups that may wait for a hashing slot; more are refused at once. */
  queueLength: number;
}

/**
 * What keeps a burst of sign-ups from starving logins: a count per client address
 * (`<prefix>auth:signup:addr:<address>`, in Redis; in this process while Redis is away), and a gate
 * on hashing, the expensive part (argon2id, ~50 ms of a core): a few at a time, a short queue, and
 * a caller that gives up while waiting (its deadline passed) never gets its password hashed.
 */
export class SignupLimiter {
  private readonly redis: RedisWithCount;
  private readonly failed: ReturnType<typeof redisFailureReporter>;
  private readonly local: LocalWindows;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Passwords hashed for sign-ups since start (tests: a caller that gave up is never hashed). */
  hashed = 0;

  constructor(
    redis: Redis,
    private readonly limits: SignupLimits,
    private readonly keyPrefix: string,
    log: Logger,
  ) {
    if (!('authCountSignup' in redis)) {
      redis.defineCommand('authCountSignup', { lua: COUNT });
      redis.defineCommand('authRefundSignup', { lua: REFUND });
    }
    this.redis = redis as RedisWithCount;
    this.local = new LocalWindows(limits.windowSeconds * 1000);
    this.failed = redisFailureReporter(redis, log, 'sign-ups are limited per process');
  }

  /**
   * Counts a sign-up from `address` (when known); RESOURCE_EXHAUSTED with a retry delay when over.
   * A sign-up that then makes no account (refused as busy, out of time, a name taken meanwhile)
   * gives its count back with `refund`: only accounts made use up an address's allowance.
   */
  async count(address: string | undefined) {
    if (!address) return;
    const key = this.keyOf(address);
    const windowMs = this.limits.windowSeconds * 1000;
    let count: number;
    let msLeft: number;
    try {
      [count, msLeft] = await this.redis.authCountSignup(1, key, windowMs);
    } catch (err) {
      this.failed('auth_signup_count', err);
      [count, msLeft] = this.local.add(key);
    }
    if (count > this.limits.maxPerAddress) {
      await this.refund(address);
      const retryAfterSeconds = Math.max(1, Math.ceil(msLeft / 1000));
      throw failure(Status.RESOURCE_EXHAUSTED, 'RATE_LIMITED', `too many sign-ups from this address; retry in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      });
    }
  }

  /** Gives back the count of a sign-up from `address` that made no account. Never throws. */
  async refund(address: string | undefined) {
    if (!address) return;
    const key = this.keyOf(address);
    this.local.giveBack(key);
    await this.redis.authRefundSignup(1, key).catch((err: unknown) => this.failed('auth_signup_refund', err));
  }

  private keyOf(address: string) {
    return `${this.keyPrefix}auth:signup:addr:${address}`;
  }

  /**
   * Runs `hash` when a slot is free. Refused at once (RESOURCE_EXHAUSTED) when the queue is full;
   * a caller whose signal aborts while it waits leaves the queue, and its hash never runs.
   */
  async hash<T>(signal: AbortSignal, hash: () => Promise<T>): Promise<T> {
    if (signal.aborted) throw new ServerError(Status.DEADLINE_EXCEEDED, 'the sign-up waited past its deadline; try again');
    if (this.running < this.limits.hashConcurrency) this.running++;
    else {
      if (this.waiting.length >= this.limits.queueLength)
        throw failure(Status.RESOURCE_EXHAUSTED, 'RATE_LIMITED', 'sign-ups are busy; retry in 1 s', { retryAfterSeconds: 1 });
      // Resolved by a caller that finishes, its slot handed over as it is (still counted as running).
      await new Promise<void>((resolve, reject) => {
        const admit = () => {
          signal.removeEventListener('abort', leave);
          resolve();
        };
        const leave = () => {
          this.waiting.splice(this.waiting.indexOf(admit), 1);
          reject(new ServerError(Status.DEADLINE_EXCEEDED, 'the sign-up waited past its deadline; try again'));
        };
        this.waiting.push(admit);
        signal.addEventListener('abort', leave, { once: true });
      });
    }
    try {
      signal.throwIfAborted();
      this.hashed++;
      return await hash();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
