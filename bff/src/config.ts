import { address, loadConfig, port } from '@pdash/backend-shared/config';
import { z } from 'zod';

const flag = (byDefault: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0', ''], { error: 'must be true or false' })
    .default(byDefault)
    .transform((v) => v === 'true' || v === '1');

/** The BFF's environment, parsed once at start-up; a bad variable stops it, named. Its defaults are
 * scripts/lib/topology.ts's, compared by bff/src/config.test.ts. */
export const bffEnv = z.object({
  BFF_PORT: port(3001),
  BFF_HOST: z.string().min(1).default('127.0.0.1'),
  /** Names this replica in `X-Served-By`; defaults to `bff-<port>`. */
  BFF_REPLICA_NAME: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'must be 1..64 letters, digits, _ . or -')
    .optional(),
  CUSTOMERS_ADDR: address('127.0.0.1:50051'),
  SUPPLIERS_ADDR: address('127.0.0.1:50052'),
  ORDERS_ADDR: address('127.0.0.1:50053'),
  AUTH_ADDR: address('127.0.0.1:50054'),
  /** Deadline of the unary gRPC calls of one request, together (and of each call outside a request). */
  GRPC_DEADLINE_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /** Marks the session cookie `Secure`; off by default so that plain-http local use works. */
  COOKIE_SECURE: flag('false'),
  /** tRPC GET queries answered without the Fetch adapter (trpc-queries.ts); `false` sends them all through it. */
  TRPC_FAST_QUERIES: flag('true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
});

export type BffConfig = z.output<typeof bffEnv>;

export const loadBffConfig = (env: NodeJS.ProcessEnv = process.env): BffConfig => loadConfig(bffEnv, env);

/** Largest request body accepted, on tRPC and REST alike (nginx has the same limit). */
export const MAX_BODY_BYTES = 1024 * 1024;
