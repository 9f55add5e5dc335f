import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TEST_ADMIN } from '@pdash/testing/backend';
import { rest, signedIn, trpcClient, trpcError } from '@pdash/testing/bff';
import { startTestStack, type TestStack } from '@pdash/testing/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The stack as users meet it: Nginx in front of two BFF replicas, every service its own process. */
let stack: TestStack;
let token: string;
/**
 * The dashboard build Nginx serves lives inside a private folder (0700, as a clone under root's
 * home or in a `mktemp -d` would): Nginx's workers must read it whoever runs the stack.
 */
const privateParent = mkdtempSync(join(tmpdir(), 'pdash-private-clone-'));
const dashboardRoot = join(privateParent, 'clone', 'dashboard', 'dist');
const PAGE_MARK = `pdash-private-build-${process.pid}`;

beforeAll(async () => {
  mkdirSync(dashboardRoot, { recursive: true });
  writeFileSync(
    join(dashboardRoot, 'index.html'),
    `<!doctype html><html><head><title>pdash</title></head><body>${PAGE_MARK}</body></html>\n`,
  );
  // Requests come from loopback here: trusting it lets a test speak for other client addresses.
  stack = await startTestStack({ TRUSTED_PROXIES: '127.0.0.1', AUTH_RATE: '5', AUTH_BURST: '20' }, { dashboardRoot });
  ({ accessToken: token } = await signedIn(stack.url));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(privateParent, { recursive: true, force: true });
});

describe('nginx in front', () => {
  it('keeps a request id it is given, makes one otherwise, and names the replica that answered', async () => {
    const given = await fetch(`${stack.url}/healthz`, { headers: { 'x-request-id': 'test-req-42' } });
    expect(given.status).toBe(200);
    expect(given.headers.get('x-request-id')).toBe('test-req-42');
    expect(given.headers.get('x-served-by')).toMatch(/^bff-[12]$/);
    const made = await fetch(`${stack.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps a client on one replica, and spreads clients over both', async () => {
    const servedBy = async (address: string) => {
      const res = await fetch(`${stack.url}/api/customers`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address } });
      expect(res.status).toBe(200);
      return res.headers.get('x-served-by') ?? '';
    };
    const one = await Promise.all(Array.from({ length: 20 }, () => servedBy('10.88.0.1')));
    expect(new Set(one).size).toBe(1);
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => servedBy(`10.88.1.${i + 1}`)));
    expect([...new Set(many)].sort()).toEqual(['bff-1', 'bff-2']);
  });

  it('sends security headers on pages and API answers, and compresses JSON', async () => {
    for (const path of ['/', '/api/openapi.json', '/orders/some/deep/link']) {
      const res = await fetch(`${stack.url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    // fetch decompresses transparently; the header says what travelled.
    const json = await fetch(`${stack.url}/api/openapi.json`, { headers: { 'accept-encoding': 'gzip' } });
    expect(json.headers.get('content-encoding')).toBe('gzip');
    expect(((await json.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });

  it('serves the dashboard build from inside a private (0700) folder', async () => {
    expect(statSync(privateParent).mode & 0o777).toBe(0o700);
    for (const path of ['/', '/orders/some/deep/link']) {
      const page = await fetch(`${stack.url}${path}`);
      expect(page.status, path).toBe(200);
      expect(await page.text(), path).toContain(PAGE_MARK);
    }
  });

  it('serves the single-page app for unknown paths and the API docs page', async () => {
    const page = await fetch(`${stack.url}/customers/123`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>');
    const docs = await fetch(`${stack.url}/api/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('answers a method it does not take (TRACE, POST on a page) with JSON and Allow', async () => {
    const cases = [
      ['TRACE', '/api/customers', 'GET, POST, PATCH, DELETE'],
      ['TRACE', '/', 'GET, HEAD'],
      ['POST', '/customers', 'GET, HEAD'],
    ] as const;
    for (const [method, path, allow] of cases) {
      // fetch refuses to send TRACE; node:http does not.
      const answer = await new Promise<{ status?: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = request(`${stack.url}${path}`, { method }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
        });
        req.on('error', reject).end();
      });
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.allow, `${method} ${path}`).toBe(allow);
      expect(answer.headers['content-type']).toContain('application/json');
      expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.parse(answer.body)).toEqual({
        error: { code: 'METHOD_NOT_SUPPORTED', message: `method: ${method} is not supported on this path` },
      });
    }
  });

  it('answers only for its own names: any other Host gets 421 and reaches no replica', async () => {
    const port = new URL(stack.url).port;
    const ask = (host: string) =>
      new Promise<{ status?: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = request(`${stack.url}/api/openapi.json`, { headers: { host } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
        });
        req.on('error', reject).end();
      });
    for (const host of ['attacker.example', `attacker.example:${port}`, 'pdash.localhost']) {
      const answer = await ask(host);
      expect(answer.status, host).toBe(421);
      expect(answer.headers['x-served-by'], host).toBeUndefined();
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'MISDIRECTED_REQUEST' } });
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST']) expect((await ask(host)).status, host).toBe(200);
  });

  it('rate-limits sign-up and login per client address (the proxy-given one when the proxy is trusted)', async () => {
    const attempt = (address: string, username: string) =>
      fetch(`${stack.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ username, password: 'wrong password' }),
      });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt('10.77.0.1', `nobody-${i}`)));
    // Nginx's refusals (the auth service's own limit answers 429 too, but from a replica).
    const byNginx = answers.filter((a) => a.status === 429 && a.headers.get('x-served-by') === null);
    expect(byNginx.length).toBeGreaterThanOrEqual(15);
    expect(byNginx[0]!.headers.get('retry-after')).toBe('1');
    expect(await byNginx[0]!.json()).toMatchObject({ error: { code: 'TOO_MANY_REQUESTS' } });
    // A burst of 20 (and what the rate lets through meanwhile) reached a replica; no more.
    expect(answers.filter((a) => a.headers.get('x-served-by') !== null).length).toBeLessThanOrEqual(25);
    // Another address is not held up by the first one's flood, nor is the rest of the API.
    expect((await attempt('10.77.0.2', 'nobody-else')).status).toBe(401);
    expect((await fetch(`${stack.url}/api/customers`, { headers: { 'x-forwarded-for': '10.77.0.1' } })).status).toBe(401);
  });

  it('refuses a 2 MiB body with 413 before it reaches a replica', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
    for (const path of ['/api/customers', '/trpc/customers.create']) {
      const res = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status, path).toBe(413);
    }
  });
});

describe('the API through nginx', () => {
  it('runs a business day over REST with the contract status codes', async () => {
    expect((await rest(stack.url, 'GET', '/api/customers')).status).toBe(401);
    const customer = await rest(stack.url, 'POST', '/api/customers', { token, body: { name: 'Through Nginx' } });
    expect(customer.status).toBe(201);
    const supplier = await rest(stack.url, 'POST', '/api/suppliers', { token, body: { name: 'Nginx Supplies' } });
    const order = await rest(stack.url, 'POST', '/api/orders', {
      token,
      body: { customerId: customer.body.id, supplierId: supplier.body.id, totalCents: 4200 },
    });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ customerName: 'Through Nginx', supplierName: 'Nginx Supplies', totalCents: 4200, version: 1 });
    const missing = await rest(stack.url, 'POST', '/api/orders', {
      token,
      body: { customerId: '0123456789abcdef01234567', supplierId: supplier.body.id, totalCents: 1 },
    });
    expect(missing.status).toBe(422);
    expect(missing.body.error.message).toMatch(/customerId/);
    const stale = await rest(stack.url, 'PATCH', `/api/orders/${order.body.id}`, { token, body: { totalCents: 1, version: 7 } });
    expect(stale.status).toBe(409);
    expect((await rest(stack.url, 'DELETE', `/api/customers/${customer.body.id}`, { token })).status).toBe(409);
    expect((await rest(stack.url, 'DELETE', `/api/orders/${order.body.id}`, { token })).status).toBe(200);
    expect((await rest(stack.url, 'GET', `/api/orders/${order.body.id}`, { token })).status).toBe(404);
    expect((await rest(stack.url, 'DELETE', `/api/customers/${customer.body.id}`, { token })).status).toBe(200);
    expect((await rest(stack.url, 'GET', '/api/customers/not-an-id', { token })).status).toBe(400);
  });

  it('streams an order event to a subscriber and resumes from the last event id', async () => {
    const client = trpcClient(stack.url, { token });
    const customer = await client.customers.create.mutate({ name: 'Live customer' });
    const supplier = await client.suppliers.create.mutate({ name: 'Live supplier' });
    const seen: { id: string; type: string; orderId: string }[] = [];
    const subscription = client.orders.onChange.subscribe(undefined, {
      onData: ({ id, data }) => seen.push({ id, type: data.type, orderId: 'order' in data ? data.order.id : '' }),
    });
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(check()).toBe(true);
    };
    try {
      await new Promise((r) => setTimeout(r, 500)); // the stream is open
      const order = await client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 100 });
      await waitFor(() => seen.some((e) => e.orderId === order.id && e.type === 'created'));
      subscription.unsubscribe();
      const lastEventId = seen.at(-1)!.id;
      await client.orders.update.mutate({ id: order.id, totalCents: 200 });
      await client.orders.delete.mutate({ id: order.id });
      const resumed: string[] = [];
      const again = client.orders.onChange.subscribe({ lastEventId }, { onData: ({ data }) => resumed.push(data.type) });
      await waitFor(() => resumed.length >= 2);
      again.unsubscribe();
      expect(resumed.slice(0, 2)).toEqual(['updated', 'deleted']);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('loses no idempotent request while the replica its client is kept on is killed', async () => {
    // The replica this client's requests are kept on is the one to kill.
    const victim = (await rest(stack.url, 'GET', '/api/customers?limit=5', { token })).headers.get('x-served-by') ?? '';
    expect(victim).toMatch(/^bff-[12]$/);
    const failures: number[] = [];
    let done = 0;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        const until = Date.now() + 3_000;
        while (Date.now() < until) {
          const res = await rest(stack.url, 'GET', '/api/customers?limit=5', { token });
          if (res.status !== 200) failures.push(res.status);
          done++;
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    stack.supervisor.signal(victim, 'SIGKILL');
    await load;
    expect(done).toBeGreaterThan(50);
    expect(failures).toEqual([]);
    // The supervisor restarts the killed replica; both serve again.
    await expect.poll(async () => (await fetch(`${stack.url}/healthz`)).status, { timeout: 15_000 }).toBe(200);
  });

  it('answers tRPC errors with the contract codes', async () => {
    await trpcError(trpcClient(stack.url).customers.list.query(), 'UNAUTHORIZED');
    await trpcError(trpcClient(stack.url, { token: `${token}x` }).auth.me.query(), 'UNAUTHORIZED');
    await trpcError(trpcClient(stack.url, { token }).orders.byId.query({ id: 'zz' }), 'BAD_REQUEST', /id/);
  });
});

describe('the scripts against the stack', () => {
  const run = promisify(execFile);
  const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');

  it('seeds data with the seed script and reads it with the CLI', async () => {
    const config = mkdtempSync(join(tmpdir(), 'pdash-cli-'));
    const env = { ...process.env, PDASH_URL: stack.url, XDG_CONFIG_HOME: config };
    try {
      // As the stack's first admin (sign-up here is open, but only to viewers, who may not write).
      const seeded = await run(
        tsx,
        [
          'scripts/seed.ts',
          '--customers',
          '4',
          '--suppliers',
          '2',
          '--orders',
          '6',
          '--username',
          TEST_ADMIN.username,
          '--password',
          TEST_ADMIN.password,
        ],
        { env },
      );
      expect(seeded.stdout).toMatch(/seeded 4 customers, 2 suppliers and 6 orders/);

      await run(tsx, ['scripts/cli.ts', 'login', TEST_ADMIN.username, '--password', TEST_ADMIN.password], { env });
      const sessionFile = join(config, 'pdash', 'session.json');
      expect(statSync(sessionFile).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(sessionFile, 'utf8')).accessToken).toBeTruthy();

      const orders = JSON.parse((await run(tsx, ['scripts/cli.ts', 'orders', 'list', '--limit', '100', '--json'], { env })).stdout);
      expect(orders.total).toBeGreaterThanOrEqual(6);
      const created = JSON.parse(
        (await run(tsx, ['scripts/cli.ts', 'customers', 'create', '--name', 'From the CLI', '--address', '1 Main St', '--json'], { env }))
          .stdout,
      );
      expect(created).toMatchObject({ name: 'From the CLI', address: '1 Main St', version: 1 });
      const table = (await run(tsx, ['scripts/cli.ts', 'customers', 'list', '--q', 'From the CLI'], { env })).stdout;
      expect(table).toMatch(/From the CLI/);
      expect(table).toMatch(/address/);
      expect(table).toMatch(/1 Main St/);
      const failed = await run(tsx, ['scripts/cli.ts', 'customers', 'get', 'nope'], { env }).catch((err) => err);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/400.*id/);

      // CSV in and out, through Nginx (its 10 MiB import route).
      const file = join(config, 'suppliers.csv');
      writeFileSync(
        file,
        'name,email,phone,address\r\n"Csv, Supplier One",one@csv.example,,\r\nCsv Supplier Two,,+1 555 0142,"2 ""Dock"" Rd"\r\n',
      );
      const dry = await run(tsx, ['scripts/cli.ts', 'import', 'suppliers', file, '--dry-run'], { env });
      expect(dry.stdout).toMatch(/2 rows would be imported/);
      const imported = await run(tsx, ['scripts/cli.ts', 'import', 'suppliers', file, '--key', 'cli-import-1'], { env });
      expect(imported.stdout).toMatch(/imported 2 suppliers/);
      const exported = await run(tsx, ['scripts/cli.ts', 'export', 'suppliers', '--q', 'Csv Supplier'], { env });
      expect(exported.stdout).toMatch(
        /^id,name,email,phone,address,createdAt\r\n[0-9a-f]{24},Csv Supplier Two,,'\+1 555 0142,"2 ""Dock"" Rd",[0-9T:.-]+Z\r\n$/,
      );
      writeFileSync(file, 'name,email\nOk,\n,bad\n');
      const refused = await run(tsx, ['scripts/cli.ts', 'import', 'suppliers', file], { env }).catch((err) => err);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/nothing was sent/);
      expect(refused.stderr).toMatch(/2 +name +must not be empty/);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });
});
