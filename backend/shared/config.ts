import { z } from 'zod';

/**
 * Environment shared by every backend service. Each service extends it with its own keys and
 * parses `process.env` once at start-up; a bad variable stops the process with its name.
 */
export const baseEnv = z.object({
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL')
    .default('mongodb://127.0.0.1:27018/'),
  MONGO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1..63 letters, digits, _ or -')
    .default('pdash'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6380/'),
  REDIS_PREFIX: z.string().max(64).default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRPC_HOST: z.string().default('127.0.0.1'),
  /** Prometheus metrics over HTTP (`GET /metrics`); loopback by default, like gRPC. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** Unset: the gRPC port + 1000 (51051 beside 50051); 0 turns the metrics port off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
});

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
/** host:port of another internal service. */
export const address = (fallback: string) =>
  z
    .string()
    .regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port')
    .default(fallback);

export class ConfigError extends Error {}

/** Parses the environment with a schema, naming every bad variable. */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
}
