import { AuditTrail } from '@pdash/backend-shared/audit';
import { Claims } from '@pdash/backend-shared/claims';
import { baseEnv, loadConfig, port } from '@pdash/backend-shared/config';
import { createLogger } from '@pdash/backend-shared/logger';
import { runMain } from '@pdash/backend-shared/main';
import { startService } from '@pdash/backend-shared/server';
import { email, newPassword, SIGNUP_MODES, username } from '@pdash/contracts';
import { AuthServiceDefinition } from '@pdash/proto/auth/v1/auth';
import { z } from 'zod';
import { ensureFirstAdmin } from './first-admin.js';
import { History } from './history.js';
import { InviteStore } from './invites.js';
import { loadSigningKeys } from './keys.js';
import { LoginLimiter } from './login-limiter.js';
import { createPasswordVerifier } from './passwords.js';
import { RevocationList } from './revocations.js';
import { createAuthService } from './service.js';
import { SignupLimiter } from './signup-limiter.js';
import { UserStore } from './store.js';
import { AccessTokens } from './tokens.js';

const seconds = (fallback: number) => z.coerce.number().int().min(1).max(86_400).default(fallback);

/** The auth service's environment (its defaults: scripts/lib/topology.ts, compared by backend/topology.test.ts). */
export const authEnv = baseEnv.extend({
  GRPC_PORT: port(50054),
  AUTH_TOKEN_TTL_SECONDS: seconds(900),
  AUTH_ISSUER: z.string().min(1).default('pdash-auth'),
  AUTH_AUDIENCE: z.string().min(1).default('pdash'),
  /** PKCS8 PEM of an Ed25519 key; `\n` escapes are accepted, as single-line secrets often carry them. */
  AUTH_PRIVATE_KEY: z
    .string()
    .min(1, 'must be a PEM private key, or unset')
    .transform((pem) => pem.replaceAll('\\n', '\n'))
    .optional(),
  /** Where the development key is kept when AUTH_PRIVATE_KEY is unset (git-ignored). */
  AUTH_KEY_FILE: z.string().min(1).default('.data/auth/dev-signing-key.pem'),
  AUTH_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(10_000).default(10),
  AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000).default(5),
  AUTH_LOGIN_WINDOW_SECONDS: seconds(900),
  AUTH_SIGNUP_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(20),
  AUTH_SIGNUP_WINDOW_SECONDS: seconds(3600),
  AUTH_SIGNUP_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  AUTH_SIGNUP_QUEUE: z.coerce.number().int().min(0).max(10_000).default(32),
  /** `invite` (the default): sign-up needs a code from users.invite; `open`: anyone, as a viewer. */
  SIGNUP_MODE: z.enum(SIGNUP_MODES).default('invite'),
  /** The first admin, made at start when no admin exists (all three, or none). */
  ADMIN_USERNAME: username.optional(),
  ADMIN_EMAIL: email.optional(),
  ADMIN_PASSWORD: newPassword.optional(),
});

/** Starts the auth service: the `users` collection, password checks and access tokens. */
export async function startAuthService(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(authEnv, env);
  const log = createLogger('auth', config.LOG_LEVEL);
  const admin = firstAdminOf(config);
  // Before connecting anywhere, so that a bad key stops the process at once.
  const keys = await loadSigningKeys({ pem: config.AUTH_PRIVATE_KEY, keyFile: config.AUTH_KEY_FILE, log });
  return startService({
    name: 'auth',
    config,
    log,
    port: config.GRPC_PORT,
    async setup({ db, redis }) {
      const store = new UserStore(db, log);
      const invites = new InviteStore(db, log);
      const [verifyPassword] = await Promise.all([createPasswordVerifier(), store.ensureIndexes(), AuditTrail.ensureIndexes(db)]);
      if (admin) await ensureFirstAdmin(store, admin, verifyPassword, log);
      const stopRecovery = [store.trail.startRecovery(), invites.trail.startRecovery()];
      const service = createAuthService({
        store,
        invites,
        history: new History(db),
        adminLock: new Claims(db, 'users_claims', 20_000),
        signupMode: config.SIGNUP_MODE,
        verifyPassword,
        tokens: new AccessTokens(keys, {
          issuer: config.AUTH_ISSUER,
          audience: config.AUTH_AUDIENCE,
          ttlSeconds: config.AUTH_TOKEN_TTL_SECONDS,
        }),
        revocations: new RevocationList(redis, config.REDIS_PREFIX, log),
        limiter: new LoginLimiter(
          redis,
          {
            maxFailures: config.AUTH_LOGIN_MAX_FAILURES,
            maxAddressFailures: config.AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS,
            windowSeconds: config.AUTH_LOGIN_WINDOW_SECONDS,
          },
          config.REDIS_PREFIX,
          log,
        ),
        signups: new SignupLimiter(
          redis,
          {
            maxPerAddress: config.AUTH_SIGNUP_MAX_PER_ADDRESS,
            windowSeconds: config.AUTH_SIGNUP_WINDOW_SECONDS,
            hashConcurrency: config.AUTH_SIGNUP_HASH_CONCURRENCY,
            queueLength: config.AUTH_SIGNUP_QUEUE,
          },
          config.REDIS_PREFIX,
          log,
        ),
        log,
      });
      return {
        names: [AuthServiceDefinition.fullName],
        register: (server) => server.add(AuthServiceDefinition, service),
        close: async () => {
          await Promise.all(stopRecovery.map((stop) => stop()));
        },
      };
    },
  });
}

/** ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD: all three or none. */
function firstAdminOf(config: z.output<typeof authEnv>) {
  const { ADMIN_USERNAME: name, ADMIN_EMAIL: address, ADMIN_PASSWORD: password } = config;
  if (name === undefined && address === undefined && password === undefined) return undefined;
  if (name === undefined || address === undefined || password === undefined)
    throw new Error('ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD: set all three (the first admin) or none');
  return { username: name, email: address, password };
}

// `tsx backend/auth/main.ts` runs the service; importing this module (tests, the stack) does not.
runMain(import.meta.url, 'auth', () => startAuthService());
