/**
 * The CLI's CSV import and export (API.md "Import and export"): `import <kind> FILE.csv
 * [--dry-run]` checks the file with the API's own rules first, uploads it with a progress bar and
 * prints any row errors as a table; `export <kind> [filters]` streams the CSV to stdout.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkImport, IMPORT_KINDS, type ImportKind, type RowError } from '@pdash/contracts';

export const isImportKind = (value: string | undefined): value is ImportKind => IMPORT_KINDS.includes(value as ImportKind);

/** What went wrong, as the CLI prints it (exit status 1). */
export class TransferError extends Error {}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: API answers are read field by field
  body: any;
}

export async function importFile(options: {
  url: string;
  token: string | undefined;
  kind: ImportKind;
  file: string;
  dryRun: boolean;
  key?: string;
  out: NodeJS.WritableStream;
}) {
  const { kind, out } = options;
  const text = readFileSync(options.file, 'utf8');
  const local = checkImport(kind, text);
  if (!local.ok) throw new TransferError(`${options.file}: nothing was sent\n${rowTable(local.errors, local.errorCount)}`);
  const body = Buffer.from(text, 'utf8');
  const path = `/api/${kind}/import${options.dryRun ? '?dryRun=true' : ''}`;
  const headers: Record<string, string> = {
    'content-type': 'text/csv; charset=utf-8',
    'idempotency-key': options.key ?? randomUUID(),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  };
  const answer = await upload(new URL(path, options.url), headers, body, (sent) =>
    bar(out, `uploading ${local.rows.length} rows`, sent / body.length),
  );
  bar(out, 'done', 1, true);
  if (answer.status === 422)
    throw new TransferError(
      `the server refused the file; nothing was imported\n${rowTable(answer.body.error.rows, rowCount(answer.body.error.message))}`,
    );
  if (answer.status >= 400) throw new TransferError(`error (${answer.status}): ${answer.body?.error?.message ?? 'no answer'}`);
  return options.dryRun
    ? `${answer.body.rows} rows would be imported (dry run: nothing written)`
    : `imported ${answer.body.created} ${kind}`;
}

/** Streams `/api/<kind>/export` (with the list filters) to `out`. */
export async function exportTo(options: {
  url: string;
  token: string | undefined;
  kind: ImportKind;
  filters: Record<string, string | undefined>;
  out: NodeJS.WritableStream;
}) {
  const url = new URL(`/api/${options.kind}/export`, options.url);
  for (const [key, value] of Object.entries(options.filters)) if (value !== undefined) url.searchParams.set(key, value);
  const response = await fetch(url, { headers: options.token ? { authorization: `Bearer ${options.token}` } : {} });
  if (!response.ok || !response.body) {
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new TransferError(`error (${response.status}): ${body?.error?.message ?? response.statusText}`);
  }
  for await (const chunk of response.body) {
    if (!options.out.write(chunk)) await new Promise((resolve) => options.out.once('drain', resolve));
  }
}

function upload(url: URL, headers: Record<string, string>, body: Buffer, onProgress: (sent: number) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : request;
    const req = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: undefined });
        }
      });
    });
    req.on('error', reject);
    const CHUNK = 64 * 1024;
    let sent = 0;
    const pump = () => {
      while (sent < body.length) {
        const end = Math.min(sent + CHUNK, body.length);
        const more = req.write(body.subarray(sent, end));
        sent = end;
        onProgress(sent);
        if (!more) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/** A one-line progress bar on a terminal; nothing elsewhere (a pipe, a test). */
function bar(out: NodeJS.WritableStream, label: string, fraction: number, last = false) {
  if (!(out as NodeJS.WriteStream).isTTY) return;
  const width = 30;
  const filled = Math.round(Math.min(1, fraction) * width);
  out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(fraction * 100)}% ${label}${last ? '\n' : ''}`);
}

const rowCount = (message: string | undefined) => Number(/^(\d+) problem/.exec(message ?? '')?.[1] ?? 0);

/** Row errors as a table, row 0 standing for the file itself. */
export function rowTable(rows: RowError[], total: number) {
  const cells = rows.map((r) => [r.row === 0 ? 'file' : String(r.row), r.field, r.message]);
  const widths = [3, 5, 7].map((min, i) => Math.max(min, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const more = total > rows.length ? `\n… and ${total - rows.length} more` : '';
  return (
    [
      `${total} problem${total === 1 ? '' : 's'}:`,
      line(['row', 'field', 'problem']),
      line(widths.map((w) => '-'.repeat(w))),
      ...cells.map(line),
    ].join('\n') + more
  );
}
