import { randomBytes } from 'node:crypto';
import type { AppRouter } from '@pdash/bff';
import { startBff } from '@pdash/bff/server';
import { MAX_BATCH_CALLS, type Role } from '@pdash/contracts';
import { BACKEND_SERVICES } from '@pdash/scripts/topology';
import { createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { EventSource } from 'eventsource';
import { expect } from 'vitest';
import { type Backend, startBackend, TEST_ADMIN } from './backend.js';

export type Bff = Awaited<ReturnType<typeof startBff>> & { url: string };

/** A BFF replica in this process on a port the kernel gives it (nothing to collide with), in front of a test backend. */
export async function startTestBff(backend: Backend, env: NodeJS.ProcessEnv = {}): Promise<Bff> {
  const bff = await startBff({ ...backend.env, BFF_PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', ...env });
  return { ...bff, url: `http://127.0.0.1:${bff.port}` };
}

/** The whole backend (real services, FerretDB, Redis) and one BFF. */
export async function startStack(extraEnv: NodeJS.ProcessEnv = {}) {
  const backend = await startBackend([...BACKEND_SERVICES], extraEnv);
  const bff = await startTestBff(backend);
  return {
    backend,
    bff,
    async stop() {
      await bff.close();
      await backend.stop();
    },
  };
}

/** A typed tRPC client, as the dashboard and the scripts make it: batched queries, SSE subscriptions. */
export function trpcClient(
  url: string,
  auth: { token?: string; headers?: Record<string, string>; batch?: boolean; viaParams?: boolean } = {},
) {
  const address = randomAddress();
  const headers = () => ({ 'x-real-ip': address, ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}), ...auth.headers });
  const http = auth.batch === false ? httpLink : httpBatchLink;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: `${url}/trpc`,
          EventSource,
          // EventSource cannot set headers; the `eventsource` package's fetch hook can, browsers use the cookie.
          ...(auth.viaParams
            ? { connectionParams: () => ({ token: auth.token ?? '' }) }
            : {
                eventSourceOptions: () => ({
                  fetch: (input: string | URL, init?: RequestInit) =>
                    fetch(input, { ...init, headers: { ...init?.headers, ...headers() } }),
                }),
              }),
        }),
        false: http({ url: `${url}/trpc`, headers, maxItems: MAX_BATCH_CALLS }),
      }),
    ],
  });
}

export type TrpcClient = ReturnType<typeof trpcClient>;

/** Sign-up fields no other test uses. */
export function newUser(password = 'correct horse battery') {
  const tag = randomBytes(5).toString('hex');
  return { username: `user_${tag}`, email: `user.${tag}@example.com`, password };
}

/** The first admin's session at `url` (TEST_ADMIN), logged in once per BFF or stack. */
const adminSessions = new Map<string, Promise<string>>();
export function adminToken(url: string): Promise<string> {
  let token = adminSessions.get(url);
  if (!token) {
    token = trpcClient(url)
      .auth.login.mutate({ username: TEST_ADMIN.username, password: TEST_ADMIN.password })
      .then((session) => session.accessToken);
    token.catch(() => adminSessions.delete(url));
    adminSessions.set(url, token);
  }
  return token;
}

/** An invitation code for `role`, made by the first admin. */
export async function inviteCode(url: string, role: Role = 'editor', email?: string) {
  const admin = trpcClient(url, { token: await adminToken(url) });
  return (await admin.users.invite.mutate({ role, email })).code;
}

/** Signs `fields` up the way a real user is let in: with an admin's invitation for `role`. */
export async function signUp(url: string, fields: ReturnType<typeof newUser>, role: Role = 'editor') {
  return trpcClient(url).auth.signup.mutate({ ...fields, inviteCode: await inviteCode(url, role) });
}

/** Signs a new user with `role` (an editor unless told) up and logs in; returns the token and a client that sends it. */
export async function signedIn(url: string, role: Role = 'editor') {
  const fields = newUser();
  const { user } = await signUp(url, fields, role);
  const session = await trpcClient(url).auth.login.mutate({ username: fields.username, password: fields.password });
  return { ...session, user, fields, client: trpcClient(url, { token: session.accessToken }) };
}

/** Awaits a tRPC call that must fail with `code` (and HTTP status); returns the error. */
export async function trpcError(call: Promise<unknown>, code: string, message?: RegExp) {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(TRPCClientError);
  const error = err as TRPCClientError<AppRouter>;
  expect(error.data?.code).toBe(code);
  expect(error.data).not.toHaveProperty('stack');
  if (message) expect(error.message).toMatch(message);
  return error;
}

/** A REST call; JSON in and out. */
export async function rest(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      'x-real-ip': randomAddress(),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  // JSON answers parsed (a CSV export stays text).
  const json = /^application\/json/.test(response.headers.get('content-type') ?? '');
  // biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
  const body: any = text && json ? JSON.parse(text) : text || undefined;
  return { status: response.status, headers: response.headers, body };
}

/**
 * A client address of its own (as Nginx would pass it), so that the auth service's per-address
 * login limit counts each test's attempts apart.
 */
export const randomAddress = () => `10.${[...randomBytes(3)].join('.')}`;

/** A 24-hex id that names nothing. */
export const missingId = () => randomBytes(12).toString('hex');
