/**
 * `npm run seed -- --customers N --suppliers N --orders N [--url URL] [--username U --password P]`:
 * fills a running pdash with demo data through the public tRPC API, with bounded concurrency and a
 * progress bar. Signs the user up first when needed. `seed()` is also used by `npm start`.
 */

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runMain } from '@pdash/backend-shared/main';
import { TRPCClientError } from '@trpc/client';
import { createClient, inBatches, type PdashClient, retryUnavailable } from './lib/client.js';

export const DEMO_USER = { username: 'demo', email: 'demo@example.com', password: 'demo-password' };
/** `npm start` makes the demo user the first admin (the auth service's ADMIN_*), unless ADMIN_* are set. */
export const DEMO_ADMIN_ENV = {
  ADMIN_USERNAME: DEMO_USER.username,
  ADMIN_EMAIL: DEMO_USER.email,
  ADMIN_PASSWORD: DEMO_USER.password,
};

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'Niklaus', 'Radia', 'John'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen', 'Wirth', 'Perlman', 'Backus'];
const TRADE = ['Steel', 'Paper', 'Coffee', 'Textiles', 'Timber', 'Glass', 'Spices', 'Tools', 'Cables', 'Ceramics'];
const PLACE = ['Northern', 'Harbour', 'Valley', 'Eastern', 'Coastal', 'Summit', 'River', 'Metro'];

/** Deterministic pseudo-random numbers, so that a seed run can be repeated exactly. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * Logs in; when there is no such user, signs it up first (possible with SIGNUP_MODE=open, or for
 * the first admin, which the auth service makes itself). Returns the access token.
 */
export async function loginOrSignUp(baseUrl: string, user: { username: string; email: string; password: string }) {
  const client = createClient(baseUrl);
  const login = () => client.auth.login.mutate({ username: user.username, password: user.password });
  try {
    return (await login()).accessToken;
  } catch (err) {
    if (!(err instanceof TRPCClientError && err.data?.code === 'UNAUTHORIZED')) throw err;
  }
  try {
    await client.auth.signup.mutate(user);
  } catch (err) {
    if (err instanceof TRPCClientError && err.data?.code === 'FORBIDDEN')
      throw new Error(`${user.username} cannot log in, and sign-up here is by invitation: use an admin's account or an invitation`);
    if (!(err instanceof TRPCClientError && err.data?.code === 'CONFLICT')) throw err;
  }
  return (await login()).accessToken;
}

export interface SeedCounts {
  customers: number;
  suppliers: number;
  orders: number;
}

export async function seed(
  client: PdashClient,
  counts: SeedCounts,
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
) {
  const concurrency = options.concurrency ?? 16;
  const rand = random(42);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const total = counts.customers + counts.suppliers + counts.orders;
  let done = 0;
  const tick = () => options.onProgress?.(++done, total);

  const customers = await inBatches(
    Array.from({ length: counts.customers }, (_, i) => {
      const name = `${pick(FIRST)} ${pick(LAST)}`;
      return { name: `${name} ${i + 1}`, email: `${name.toLowerCase().replace(' ', '.')}.${i + 1}@example.com` };
    }),
    concurrency,
    (input) => client.customers.create.mutate(input),
    tick,
  );
  const suppliers = await inBatches(
    Array.from({ length: counts.suppliers }, (_, i) => ({
      name: `${pick(PLACE)} ${pick(TRADE)} ${i + 1}`,
      phone: `+1 555 01${String(i).padStart(2, '0')}`,
    })),
    concurrency,
    (input) => client.suppliers.create.mutate(input),
    tick,
  );
  if (counts.orders > 0 && (customers.length === 0 || suppliers.length === 0)) {
    throw new Error('orders need at least one customer and one supplier');
  }
  await inBatches(
    Array.from({ length: counts.orders }, () => ({
      customerId: pick(customers).id,
      supplierId: pick(suppliers).id,
      totalCents: Math.round(500 + rand() * 250_000),
    })),
    concurrency,
    (input) => {
      const idempotencyKey = `seed-${randomUUID()}`;
      return retryUnavailable(() => client.orders.create.mutate({ ...input, idempotencyKey }));
    },
    tick,
  );
  return { customers, suppliers };
}

function progressBar(done: number, total: number) {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
  if (done === total) process.stderr.write('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '20' },
      suppliers: { type: 'string', default: '8' },
      orders: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      url: { type: 'string', default: process.env.PDASH_URL ?? `http://127.0.0.1:${process.env.PDASH_PORT ?? 8080}` },
      username: { type: 'string', default: DEMO_USER.username },
      password: { type: 'string', default: process.env.PDASH_PASSWORD ?? DEMO_USER.password },
    },
  });
  const count = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new Error(`--${name} must be a whole number 0..1000000`);
    return n;
  };
  const counts = {
    customers: count('customers', values.customers),
    suppliers: count('suppliers', values.suppliers),
    orders: count('orders', values.orders),
  };
  const user = { username: values.username, email: `${values.username}@example.com`, password: values.password };
  const token = await loginOrSignUp(values.url, user);
  const client = createClient(values.url, () => token);
  const started = performance.now();
  await seed(client, counts, { concurrency: count('concurrency', values.concurrency) || 1, onProgress: progressBar });
  console.log(
    `seeded ${counts.customers} customers, ${counts.suppliers} suppliers and ${counts.orders} orders in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

runMain(import.meta.url, 'seed', main, { oneShot: true });
