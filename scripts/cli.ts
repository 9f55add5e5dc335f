/**
 * `npm run cli -- <command>`: pdash from the terminal, over the public tRPC API (typed by AppRouter).
 * Run `npm run cli -- help` for the commands. `--json` prints machine-readable output.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import {
  optionalPartyFields,
  type PartyField,
  type PartyRecord,
  partyCreateInput,
  partyFieldNames,
  partyUpdateInput,
} from '@pdash/contracts';
import { TRPCClientError } from '@trpc/client';
import type { z } from 'zod';
import { createClient, type PdashClient, retryUnavailable } from './lib/client.js';
import { exportTo, importFile, isImportKind, TransferError } from './lib/transfer.js';

/** The optional fields of a customer or supplier, one option each (@pdash/contracts). */
const partyOptions = optionalPartyFields.map((f) => `[--${f} ${f.toUpperCase()}]`).join(' ');

const HELP = `usage: npm run cli -- <command> [options]

  login <username> [--password P]       log in (password from --password, PDASH_PASSWORD or a prompt)
  logout | me
  customers|suppliers list [--q TEXT] [--limit N] [--cursor C]
  customers|suppliers get <id>
  customers|suppliers create --name NAME ${partyOptions}
  customers|suppliers update <id> [--name N] ${partyOptions} [--version V]
  customers|suppliers delete <id>
  orders list [--customer ID | --supplier ID] [--limit N] [--cursor C]
  orders get <id>
  orders create --customer ID --supplier ID --total-cents N
  orders update <id> [--customer ID] [--supplier ID] [--total-cents N] [--version V]
  orders delete <id>
  import customers|suppliers|orders FILE.csv [--dry-run] [--key K]
                                         import a CSV file, all or nothing (--key: the Idempotency-Key)
  export customers|suppliers [--q TEXT] > FILE.csv
  export orders [--customer ID | --supplier ID] > FILE.csv
  stats [--days N]
  watch                                  print live order events until Ctrl-C

options: --url URL (default $PDASH_URL or http://127.0.0.1:8080), --json`;

interface Session {
  url: string;
  accessToken: string;
  expiresAt: string;
  username: string;
}

const sessionFile = join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'pdash', 'session.json');

function readSession(): Session | undefined {
  try {
    return JSON.parse(readFileSync(sessionFile, 'utf8')) as Session;
  } catch {
    return undefined;
  }
}

function writeSession(session: Session) {
  mkdirSync(dirname(sessionFile), { recursive: true, mode: 0o700 });
  writeFileSync(sessionFile, JSON.stringify(session), { mode: 0o600 });
  chmodSync(sessionFile, 0o600);
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    json: { type: 'boolean', default: false },
    password: { type: 'string' },
    q: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    ...(Object.fromEntries(partyFieldNames.map((f) => [f, { type: 'string' }])) as Record<PartyField, { type: 'string' }>),
    version: { type: 'string' },
    customer: { type: 'string' },
    supplier: { type: 'string' },
    'total-cents': { type: 'string' },
    days: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    key: { type: 'string' },
  },
});

const session = readSession();
const url = opts.url ?? process.env.PDASH_URL ?? session?.url ?? `http://127.0.0.1:${process.env.PDASH_PORT ?? 8080}`;
const client: PdashClient = createClient(url, () => session?.accessToken);

const int = (name: string, value: string | undefined) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number`);
  return n;
};

class UsageError extends Error {}

function print(value: unknown, table?: Record<string, string>[]) {
  if (typeof value === 'string') console.log(value);
  else if (opts.json || !table) console.log(JSON.stringify(value, null, opts.json ? 0 : 2));
  else printTable(table);
}

function printTable(rows: Record<string, string>[]) {
  if (rows.length === 0) return console.log('(none)');
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => row[c] ?? '')));
}

const money = (cents: number) => (cents / 100).toLocaleString('en-US', { style: 'currency', currency: 'USD' });
const day = (iso: string) => iso.slice(0, 16).replace('T', ' ');

async function parties(kind: 'customers' | 'suppliers', action: string | undefined, id: string | undefined) {
  const api = client[kind];
  const partyRow = (p: PartyRecord) => ({
    id: p.id,
    ...Object.fromEntries(partyFieldNames.map((f) => [f, p[f] ?? ''])),
    version: String(p.version),
  });
  // Checked here with the API's own rules, so a typo is named before anything is sent.
  const fields = <S extends z.ZodType>(schema: S, values: unknown): z.output<S> => {
    const parsed = schema.safeParse(values);
    if (parsed.success) return parsed.data;
    throw new UsageError(parsed.error.issues.map((i) => `--${String(i.path[0] ?? '?')} ${i.message}`).join('\n'));
  };
  const given = Object.fromEntries(partyFieldNames.flatMap((f) => (opts[f] === undefined ? [] : [[f, opts[f]]])));
  switch (action) {
    case 'list': {
      const page = await api.list.query({ q: opts.q, limit: int('limit', opts.limit), cursor: opts.cursor });
      print(page, page.items.map(partyRow));
      if (!opts.json)
        console.log(`\n${page.items.length} of ${page.total}${page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : ''}`);
      return;
    }
    case 'get':
      return print(await api.byId.query({ id: need(id, 'id') }));
    case 'create':
      need(opts.name, '--name');
      return print(await api.create.mutate(fields(partyCreateInput, given)));
    case 'update':
      return print(
        await api.update.mutate(fields(partyUpdateInput, { id: need(id, 'id'), ...given, version: int('version', opts.version) })),
      );
    case 'delete':
      return print(await api.delete.mutate({ id: need(id, 'id') }));
    default:
      throw new UsageError(`unknown ${kind} command: ${action ?? '(none)'}`);
  }
}

async function orders(action: string | undefined, id: string | undefined) {
  switch (action) {
    case 'list': {
      const page = await client.orders.list.query({
        customerId: opts.customer,
        supplierId: opts.supplier,
        limit: int('limit', opts.limit),
        cursor: opts.cursor,
      });
      print(
        page,
        page.items.map((o) => ({
          id: o.id,
          date: day(o.createdAt),
          customer: o.customerName,
          supplier: o.supplierName,
          total: money(o.totalCents),
        })),
      );
      if (!opts.json)
        console.log(`\n${page.items.length} of ${page.total}${page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : ''}`);
      return;
    }
    case 'get':
      return print(await client.orders.byId.query({ id: need(id, 'id') }));
    case 'create': {
      const input = {
        customerId: need(opts.customer, '--customer'),
        supplierId: need(opts.supplier, '--supplier'),
        totalCents: need(int('total-cents', opts['total-cents']), '--total-cents'),
        // A 503 may come after the order was made: the retries send the same key and get that order.
        idempotencyKey: `cli-${randomUUID()}`,
      };
      return print(await retryUnavailable(() => client.orders.create.mutate(input)));
    }
    case 'update':
      return print(
        await client.orders.update.mutate({
          id: need(id, 'id'),
          customerId: opts.customer,
          supplierId: opts.supplier,
          totalCents: int('total-cents', opts['total-cents']),
          version: int('version', opts.version),
        }),
      );
    case 'delete':
      return print(await client.orders.delete.mutate({ id: need(id, 'id') }));
    default:
      throw new UsageError(`unknown orders command: ${action ?? '(none)'}`);
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`${what} is required`);
  return value;
}

async function login(username: string | undefined) {
  const name = need(username, 'username');
  let password = opts.password ?? process.env.PDASH_PASSWORD;
  if (!password) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    password = await rl.question('password: ');
    rl.close();
  }
  const result = await createClient(url).auth.login.mutate({ username: name, password });
  writeSession({ url, accessToken: result.accessToken, expiresAt: result.expiresAt, username: result.user.username });
  print(opts.json ? { user: result.user, expiresAt: result.expiresAt } : `logged in as ${result.user.username} until ${result.expiresAt}`);
}

function watch() {
  return new Promise<void>((resolve, reject) => {
    const subscription = client.orders.onChange.subscribe(undefined, {
      onStarted: () => {
        if (!opts.json) console.error('watching order events (Ctrl-C to stop)');
      },
      onData: ({ id, data }) => {
        if (opts.json) console.log(JSON.stringify({ eventId: id, ...data }));
        else if (data.type === 'reset') console.log(`${id}  reset    (too far back to replay: list the orders again)`);
        else
          console.log(
            `${id}  ${data.type.padEnd(7)}  ${data.order.id}  ${data.order.customerName} → ${data.order.supplierName}  ${money(data.order.totalCents)}  (${data.count} orders)`,
          );
      },
      onError: (err) => {
        subscription.unsubscribe();
        reject(err);
      },
    });
    process.once('SIGINT', () => {
      subscription.unsubscribe();
      resolve();
    });
  });
}

async function run() {
  const [command, action, id] = positionals;
  switch (command) {
    case 'login':
      return login(action);
    case 'logout':
      if (session) await client.auth.logout.mutate().catch(() => undefined);
      rmSync(sessionFile, { force: true });
      return print(opts.json ? { ok: true } : 'logged out');
    case 'me':
      return print(await client.auth.me.query());
    case 'customers':
    case 'suppliers':
      return parties(command, action, id);
    case 'orders':
      return orders(action, id);
    case 'stats': {
      const stats = await client.orders.stats.query({ days: int('days', opts.days) });
      if (opts.json) return print(stats);
      console.log(`${stats.count} orders, ${money(stats.revenueCents)} in the last ${stats.byDay.length} days\n`);
      return printTable(stats.bySupplier.map((s) => ({ supplier: s.name, orders: String(s.count), revenue: money(s.revenueCents) })));
    }
    case 'watch':
      return watch();
    case 'import': {
      if (!isImportKind(action)) throw new UsageError('import what: customers, suppliers or orders?');
      const file = need(id, 'the CSV file');
      return print(
        await importFile({
          url,
          token: session?.accessToken,
          kind: action,
          file,
          dryRun: opts['dry-run'] ?? false,
          key: opts.key,
          out: process.stderr,
        }),
      );
    }
    case 'export': {
      if (!isImportKind(action)) throw new UsageError('export what: customers, suppliers or orders?');
      const filters = action === 'orders' ? { customerId: opts.customer, supplierId: opts.supplier } : { q: opts.q };
      return exportTo({ url, token: session?.accessToken, kind: action, filters, out: process.stdout });
    }
    case undefined:
    case 'help':
      return console.log(HELP);
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

run().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`${err.message}\n\n${HELP}`);
    else if (err instanceof TransferError) console.error(err.message);
    else if (err instanceof TRPCClientError) {
      const status = err.data?.httpStatus ? ` (${err.data.httpStatus})` : '';
      console.error(`error${status}: ${err.message}${err.data?.code === 'UNAUTHORIZED' ? ' — run `npm run cli -- login <username>`' : ''}`);
    } else console.error(`error: ${err instanceof Error ? err.message : err}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
