import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * A Redis connection that never makes a request wait on a dead server: commands fail at once
 * while disconnected (no offline queue) and after 100 ms on a hung one, and the client keeps
 * reconnecting in the background with bounded back-off.
 */
export function createRedis(url: string, log: Logger, options: { name?: string; commandTimeout?: number } = {}) {
  const redis = new Redis(url, {
    connectionName: options.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeout ?? 100,
    connectTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    lazyConnect: true,
  });
  let down = false;
  redis.on('error', (err) => {
    if (!down) log.warn({ err: err.message }, 'redis unavailable');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info('redis reconnected');
    down = false;
  });
  // Start connecting now; a service starts (and serves from MongoDB) even while Redis is down.
  redis.connect().catch(() => {});
  return redis;
}

export type { Redis };
