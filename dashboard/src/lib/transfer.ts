import { IMPORT_LIMITS, type ImportKind, type RowError } from '@pdash/contracts';
import { formatBytes } from './format';
import { handleUnauthorized } from './session';
import type { OrderFilter } from './trpc';

/*
 * CSV import and export (API.md "Import and export"). These are REST routes, not procedures (their
 * bodies are CSV), so they are plain same-origin fetches and links: the session cookie goes with
 * them as with /trpc. A 401 goes to the login page like any other.
 */

export type { ImportKind };

/** The server's answer to an import: a dry run counts the rows, a real one says how many it made. */
export type ImportAnswer = { dryRun: true; rows: number } | { dryRun: false; created: number };

/** An import the server refused: its status, code and message, and for a bad file the rows at fault. */
export class ImportError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Up to IMPORT_LIMITS.maxListedErrors problems (row 0 is the file or its header). */
    readonly rows: RowError[] = [],
    /** How many problems there are in all. */
    readonly rowCount = rows.length,
  ) {
    super(message);
  }
}

/** Checks (`dryRun`) or imports a CSV file's text; `key` makes a retried import create nothing twice. */
export async function importCsv(kind: ImportKind, text: string, options: { dryRun: boolean; key?: string }): Promise<ImportAnswer> {
  const headers: Record<string, string> = { 'Content-Type': 'text/csv; charset=utf-8' };
  if (options.key) headers['Idempotency-Key'] = options.key;
  const response = await fetch(`/api/${kind}/import${options.dryRun ? '?dryRun=true' : ''}`, {
    method: 'POST',
    headers,
    body: text,
    credentials: 'same-origin',
  });
  // An answer from Nginx (a 413 or 502 page) is HTML, not the API's JSON.
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok) {
    const answer = body as { rows?: number; created?: number };
    return options.dryRun ? { dryRun: true, rows: answer.rows ?? 0 } : { dryRun: false, created: answer.created ?? 0 };
  }
  if (response.status === 401) handleUnauthorized();
  throw refusal(response.status, body);
}

function refusal(status: number, body: unknown): ImportError {
  const error = (body as { error?: { code?: unknown; message?: unknown; rows?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`;
  const message = typeof error?.message === 'string' ? error.message : (FALLBACK[status] ?? `The server answered ${status}; try again.`);
  const rows = Array.isArray(error?.rows) ? (error.rows as RowError[]) : [];
  // The message starts with the total ("3 problems in the file; …"); the list stops at 100.
  const total = Number(/^(\d+) problems? /.exec(message)?.[1] ?? rows.length);
  return new ImportError(status, code, message, rows, Math.max(total, rows.length));
}

const FALLBACK: Record<number, string> = {
  401: 'Your session has ended; log in again.',
  403: 'Your role may not import these records.',
  413: `The file is too large: an import takes at most ${formatBytes(IMPORT_LIMITS.maxBytes)}.`,
  415: 'The server takes CSV files only (text/csv).',
  502: 'The server cannot be reached; try again in a moment.',
  503: 'The service is unavailable; try again in a moment.',
  504: 'The server took too long to answer; try again in a moment.',
};

/** What an export may be filtered by: the list filters of its kind. */
export type ExportFilter<K extends ImportKind> = K extends 'orders' ? OrderFilter : { q?: string | undefined };

/** The address of a CSV download of every `kind` record matching `filter` (empty values left out). */
export function exportUrl<K extends ImportKind>(kind: K, filter: ExportFilter<K> = {} as ExportFilter<K>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) if (typeof value === 'string' && value !== '') params.set(name, value);
  const query = params.toString();
  return `/api/${kind}/export${query ? `?${query}` : ''}`;
}
