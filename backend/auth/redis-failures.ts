import type { Logger } from '@pdash/backend-shared/logger';
import { redisErrors } from '@pdash/backend-shared/metrics';
import type { Redis } from '@pdash/backend-shared/redis';

/**
 * For a feature that carries on without Redis: every failed command is counted in `redisErrors`,
 * and the first failure of each outage is logged together with what the service does instead.
 */
export function redisFailureReporter(redis: Redis, log: Logger, fallback: string) {
  let reported = false;
  redis.on('ready', () => {
    reported = false;
  });
  return (operation: string, err: unknown) => {
    redisErrors.inc({ operation });
    if (reported) return;
    reported = true;
    log.warn({ err: err instanceof Error ? err.message : String(err), operation }, `redis unavailable: ${fallback}`);
  };
}
