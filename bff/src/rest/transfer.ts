import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  checkImport,
  csvLine,
  ERROR_DOMAIN,
  exportCell,
  IMPORT_LIMITS,
  type ImportKind,
  idempotencyKey,
  ORDER_EXPORT_COLUMNS,
  type OrderRow,
  PARTY_EXPORT_COLUMNS,
  type PartyRow,
  type RowError,
} from '@pdash/contracts';
import type { ImportStart } from '@pdash/proto/common/v1/imports';
import { TRPCError } from '@trpc/server';
import { ClientError, type Metadata } from 'nice-grpc';
import { RichClientError } from 'nice-grpc-error-details';
import type { Clients } from '../clients.js';
import type { Context } from '../context.js';
import { authorize, withActor } from '../trpc.js';
import { HttpProblem } from './http.js';

/*
 * CSV import and export (API.md "Import and export"): REST routes that are not procedures (their
 * bodies are CSV, not JSON), checked by the same `authorize` and answered with the same error body.
 * The rows are checked here with @pdash/contracts' rules, then streamed to the owning service's
 * Import in chunks; the service writes all or nothing (backend/shared/imports.ts).
 */

const TRANSFER = /^\/api\/(customers|suppliers|orders)\/(import|export)$/;
const ROWS_PER_MESSAGE = 1_000;
/** An import may take a while (10,000 orders in seconds, 50,000 in more); an export has no deadline. */
const IMPORT_DEADLINE_MS = 300_000;

export function matchTransfer(pathname: string): { kind: ImportKind; action: 'import' | 'export' } | undefined {
  const match = TRANSFER.exec(pathname);
  return match ? { kind: match[1] as ImportKind, action: match[2] as 'import' | 'export' } : undefined;
}

export async function handleTransfer(ctx: Context, route: { kind: ImportKind; action: 'import' | 'export' }, url: URL) {
  const { req, res } = ctx;
  if (route.action === 'export') {
    if (req.method !== 'GET') throw new HttpProblem(405, 'METHOD_NOT_SUPPORTED', `${req.method} is not supported here`, { Allow: 'GET' });
    const user = await authorize(ctx, 'viewer');
    return exportCsv(ctx, route.kind, url, withActor(ctx.rpc.metadata, user));
  }
  if (req.method !== 'POST') throw new HttpProblem(405, 'METHOD_NOT_SUPPORTED', `${req.method} is not supported here`, { Allow: 'POST' });
  if (!ctx.sameOrigin) throw new TRPCError({ code: 'FORBIDDEN', message: 'origin: cross-origin requests are refused' });
  const user = await authorize(ctx, 'editor');
  for (const key of url.searchParams.keys())
    if (key !== 'dryRun') throw new HttpProblem(400, 'BAD_REQUEST', `${key}: an import takes only ?dryRun=true in its URL`);
  const dryRunParam = url.searchParams.get('dryRun');
  if (dryRunParam !== null && dryRunParam !== 'true' && dryRunParam !== 'false')
    throw new HttpProblem(400, 'BAD_REQUEST', 'dryRun: must be true or false');
  const dryRun = dryRunParam === 'true';
  const keyHeader = req.headers['idempotency-key'];
  if (keyHeader !== undefined) {
    const checked = idempotencyKey.safeParse(keyHeader);
    if (!checked.success) throw new HttpProblem(400, 'BAD_REQUEST', `Idempotency-Key: ${checked.error.issues[0]?.message}`);
  }
  const body = await readCsvBody(req);
  const checked = checkImport(route.kind, body);
  if (!checked.ok) throw rowsProblem(checked.errors, checked.errorCount);
  if (user.role !== 'admin' && (checked.rows as { createdAt?: string }[]).some((row) => row.createdAt))
    throw new TRPCError({ code: 'FORBIDDEN', message: `role: admin needed to import createdAt (you are ${user.role})` });

  const start: ImportStart = {
    idempotencyKey: typeof keyHeader === 'string' ? keyHeader : randomUUID(),
    fingerprint: createHash('sha256').update(body).digest('hex'),
    dryRun,
    totalRows: checked.rows.length,
  };
  const options = {
    metadata: withActor(ctx.rpc.metadata, user),
    deadline: new Date(Date.now() + IMPORT_DEADLINE_MS),
    signal: abortedWith(res),
  };
  let result: { created: number; importId: string };
  try {
    if (route.kind === 'orders') {
      const rows = (checked.rows as OrderRow[]).map((row) => ({
        customerId: row.customer.id,
        customerEmail: row.customer.email,
        supplierId: row.supplier.id,
        supplierEmail: row.supplier.email,
        totalCents: row.totalCents,
        createdAt: row.createdAt,
      }));
      result = await ctx.clients.orders.import(messages(start, rows), options);
    } else {
      const client = route.kind === 'customers' ? ctx.clients.customers : ctx.clients.suppliers;
      result = await client.import(messages(start, checked.rows as PartyRow[]), options);
    }
  } catch (err) {
    const rows = rowsOf(err);
    if (rows) throw rowsProblem(rows.listed, rows.total);
    throw err;
  }
  const answer = dryRun ? { created: 0, rows: checked.rows.length, dryRun: true } : { created: result.created, importId: result.importId };
  res.writeHead(dryRun ? 200 : 201, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(answer));
}

/** The client stream of an import: its start, then the rows ROWS_PER_MESSAGE at a time. */
async function* messages<R>(start: ImportStart, rows: R[]) {
  yield { start };
  for (let at = 0; at < rows.length; at += ROWS_PER_MESSAGE) yield { rows: { rows: rows.slice(at, at + ROWS_PER_MESSAGE) } };
}

function abortedWith(res: ServerResponse) {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

async function readCsvBody(req: IncomingMessage): Promise<string> {
  const type = req.headers['content-type'] ?? '';
  // text/csv only: text/plain is what a cross-site form may post without a preflight.
  if (!/^text\/csv\s*(;|$)/i.test(type)) throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'body: must be text/csv');
  const tooLarge = () =>
    new HttpProblem(413, 'PAYLOAD_TOO_LARGE', `body: larger than ${IMPORT_LIMITS.maxBytes} bytes (10 MiB)`, { Connection: 'close' });
  if (Number(req.headers['content-length'] ?? 0) > IMPORT_LIMITS.maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > IMPORT_LIMITS.maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new HttpProblem(400, 'BAD_REQUEST', 'body: is not UTF-8');
  }
}

function rowsProblem(rows: RowError[], total: number) {
  const first = rows[0];
  const message = `${total} problem${total === 1 ? '' : 's'} in the file; nothing was imported${first ? ` (row ${first.row}, ${first.field}: ${first.message})` : ''}`;
  return new HttpProblem(422, 'UNPROCESSABLE_CONTENT', message, {}, { rows });
}

/** The rows a service refused (IMPORT_ROWS: a BadRequest naming `<row>.<field>`), if that is what `err` is. */
function rowsOf(err: unknown): { listed: RowError[]; total: number } | undefined {
  if (!(err instanceof RichClientError)) return undefined;
  const info = err.extra.find((d) => d.$type === 'google.rpc.ErrorInfo' && d.domain === ERROR_DOMAIN && d.reason === 'IMPORT_ROWS');
  if (info?.$type !== 'google.rpc.ErrorInfo') return undefined;
  const listed: RowError[] = [];
  for (const detail of err.extra) {
    if (detail.$type !== 'google.rpc.BadRequest') continue;
    for (const violation of detail.fieldViolations) {
      const [row, ...field] = violation.field.split('.');
      listed.push({ row: Number(row), field: field.join('.'), message: violation.description });
    }
  }
  return { listed, total: Number(info.metadata.total ?? listed.length) };
}

/** Streams every record matching the list filters as CSV, a page of the service's stream at a time. */
async function exportCsv(ctx: Context, kind: ImportKind, url: URL, metadata: Metadata) {
  const { res, req } = ctx;
  const controller = new AbortController();
  req.once('close', () => controller.abort());
  const params = Object.fromEntries(url.searchParams);
  const allowed = kind === 'orders' ? ['customerId', 'supplierId'] : ['q'];
  for (const key of Object.keys(params))
    if (!allowed.includes(key)) throw new HttpProblem(400, 'BAD_REQUEST', `${key}: unknown filter (filters: ${allowed.join(', ')})`);
  const options = { metadata, signal: controller.signal };
  const stream =
    kind === 'orders'
      ? ctx.clients.orders.export({ customerId: params.customerId, supplierId: params.supplierId }, options)
      : (kind === 'customers' ? ctx.clients.customers : ctx.clients.suppliers).export({ q: params.q }, options);
  const iterator = stream[Symbol.asyncIterator]();
  // The first record (or the end, or the failure) before any byte is sent: a bad filter is still a clean 4xx.
  let next = await iterator.next();
  res.writeHead(200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${kind}.csv"`,
    'Cache-Control': 'no-store',
  });
  // Back-pressure; a client that leaves ends the wait too (a drain would never come).
  const write = async (text: string) => {
    if (res.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.once('drain', done);
      res.once('close', done);
    });
    if (controller.signal.aborted || res.destroyed) throw new DOMException('the client left', 'AbortError');
  };
  try {
    if (kind === 'orders') {
      await write(csvLine(ORDER_EXPORT_COLUMNS));
      const parties = new PartyLookup(ctx.clients, options);
      let page: import('@pdash/proto/orders/v1/orders').Order[] = [];
      const flush = async () => {
        await parties.load(page);
        let text = '';
        for (const order of page) {
          const customer = parties.customer(order.customerId);
          const supplier = parties.supplier(order.supplierId);
          text += csvLine(
            [
              order.customerId,
              customer?.email,
              customer?.name,
              order.supplierId,
              supplier?.email,
              supplier?.name,
              order.totalCents,
              order.createdAt,
            ].map(exportCell),
          );
        }
        page = [];
        await write(text);
      };
      while (!next.done) {
        page.push(next.value as import('@pdash/proto/orders/v1/orders').Order);
        if (page.length >= 500) await flush();
        next = await iterator.next();
      }
      await flush();
    } else {
      await write(csvLine(PARTY_EXPORT_COLUMNS));
      let text = '';
      while (!next.done) {
        const party = next.value as import('@pdash/proto/common/v1/party').Party;
        text += csvLine(PARTY_EXPORT_COLUMNS.map((column) => exportCell(party[column])));
        if (text.length > 64 * 1024) {
          await write(text);
          text = '';
        }
        next = await iterator.next();
      }
      await write(text);
    }
    res.end();
  } catch (err) {
    // The status is sent: a failure now can only cut the file short, which the client sees.
    const clientLeft = controller.signal.aborted;
    res.destroy();
    controller.abort();
    if (!(err instanceof ClientError) && !clientLeft) throw err;
  }
}

/** Names and emails of the parties an export's orders name, asked 100 ids at a time and kept for the export. */
class PartyLookup {
  private readonly known = {
    customers: new Map<string, { name: string; email?: string }>(),
    suppliers: new Map<string, { name: string; email?: string }>(),
  };

  constructor(
    private readonly clients: Clients,
    private readonly options: { metadata: Metadata; signal: AbortSignal },
  ) {}

  customer = (id: string) => this.known.customers.get(id);
  supplier = (id: string) => this.known.suppliers.get(id);

  async load(orders: { customerId: string; supplierId: string }[]) {
    await Promise.all([
      this.fill(
        'customers',
        orders.map((o) => o.customerId),
      ),
      this.fill(
        'suppliers',
        orders.map((o) => o.supplierId),
      ),
    ]);
  }

  private async fill(kind: 'customers' | 'suppliers', ids: string[]) {
    const missing = [...new Set(ids)].filter((id) => !this.known[kind].has(id));
    for (let at = 0; at < missing.length; at += 100) {
      const { items } = await this.clients[kind].batchGet({ ids: missing.slice(at, at + 100), forReference: false }, this.options);
      for (const party of items) this.known[kind].set(party.id, { name: party.name, email: party.email });
    }
  }
}
