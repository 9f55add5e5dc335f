import { z } from 'zod';
import { CsvSyntaxError, importCell, parseCsv } from './csv.js';
import { optionalPartyFields, PARTY_FIELDS, type PartyValues, partyFieldNames } from './parties.js';
import { email, objectId, totalCents } from './rules.js';

/*
 * CSV import (API.md "Import and export"): the columns of each kind, and the checks of a file and
 * its rows with the same rules as the API's (a row is what a create would take). Shared by the BFF,
 * the CLI and the dashboard.
 */

export const IMPORT_LIMITS = {
  maxBytes: 10 * 1024 * 1024,
  maxRows: 50_000,
  /** Row errors listed in a refusal (the count says how many there are). */
  maxListedErrors: 100,
} as const;

export const IMPORT_KINDS = ['customers', 'suppliers', 'orders'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** What a user writes on a customer or supplier: the columns a new record's file needs (name and any of the rest). */
export const PARTY_COLUMNS = partyFieldNames;
/**
 * A customers or suppliers export: the record's fields, and its `id` and `createdAt`, so that the
 * file imported again (into this database after the records were removed, or into another one)
 * gives the same records and the orders that name them by id still do. An import may give `id`
 * (one no record of the kind has had) and `createdAt` (admins only, as for orders) or leave them out.
 */
export const PARTY_EXPORT_COLUMNS = ['id', ...partyFieldNames, 'createdAt'] as const;
/**
 * Columns of an orders file. Each party by id or by email (at least one; when both are given the
 * id names it and the email must be that party's); `createdAt` (an admin's import of past orders)
 * may be left out; `customerName` and `supplierName`, which export writes beside them, are read
 * and ignored.
 */
export const ORDER_COLUMNS = ['customerId', 'customerEmail', 'supplierId', 'supplierEmail', 'totalCents', 'createdAt'] as const;
export const ORDER_EXPORT_COLUMNS = [
  'customerId',
  'customerEmail',
  'customerName',
  'supplierId',
  'supplierEmail',
  'supplierName',
  'totalCents',
  'createdAt',
] as const;
const IGNORED_ORDER_COLUMNS = ['customerName', 'supplierName'];

/** A problem with one row (row 1 is the first data row) or with the file as a whole (row 0). */
export interface RowError {
  row: number;
  field: string;
  message: string;
}

/** A party of an order row: its id, its email, or both (then the email must be that party's). */
export type PartyRef = { id: string; email?: string } | { email: string; id?: undefined };

export interface OrderRow {
  customer: PartyRef;
  supplier: PartyRef;
  totalCents: number;
  createdAt?: string;
}

/** A customers or suppliers row: the fields, and the id and createdAt to keep when the file gives them. */
export type PartyRow = PartyValues & { id?: string; createdAt?: string };

export type ImportRows<K extends ImportKind> = K extends 'orders' ? OrderRow[] : PartyRow[];

export type ImportCheck<K extends ImportKind> = { ok: true; rows: ImportRows<K> } | { ok: false; errors: RowError[]; errorCount: number };

/** A createdAt of an import: a real ISO-8601 instant, not in the future. */
const createdAt = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/, 'must be an ISO-8601 time like 2024-05-01T12:00:00Z')
  .refine((value) => Number.isFinite(Date.parse(value)), 'must be a real time')
  .refine((value) => Date.parse(value) <= Date.now() + 60_000, 'must not be in the future')
  .refine((value) => Date.parse(value) >= Date.UTC(1970, 0, 1), 'must not be before 1970');

/**
 * Parses and checks a CSV file of `kind`: every row's every problem (up to maxListedErrors listed),
 * or the rows as the services take them. The header must name the kind's columns (any order; a
 * column the kind does not know is refused, as an unknown field of a create is).
 */
export function checkImport<K extends ImportKind>(kind: K, text: string): ImportCheck<K> {
  const errors: RowError[] = [];
  let errorCount = 0;
  const report = (row: number, field: string, message: string) => {
    errorCount++;
    if (errors.length < IMPORT_LIMITS.maxListedErrors) errors.push({ row, field, message });
  };
  let records: string[][];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    return { ok: false, errors: [{ row: 0, field: 'file', message: err.message }], errorCount: 1 };
  }
  // A last empty line (a trailing newline is written by most tools) is no record.
  while (records.length > 0 && records.at(-1)!.length === 1 && records.at(-1)![0] === '') records.pop();
  const [header, ...rows] = records;
  if (!header) return { ok: false, errors: [{ row: 0, field: 'file', message: 'is empty: a header row is needed' }], errorCount: 1 };
  if (rows.length > IMPORT_LIMITS.maxRows)
    return {
      ok: false,
      errors: [{ row: 0, field: 'file', message: `has ${rows.length} rows; at most ${IMPORT_LIMITS.maxRows}` }],
      errorCount: 1,
    };

  const known: readonly string[] = kind === 'orders' ? [...ORDER_COLUMNS, ...IGNORED_ORDER_COLUMNS] : PARTY_EXPORT_COLUMNS;
  const columns = header.map((name) => name.trim());
  for (const name of columns)
    if (!known.includes(name)) report(0, name || 'header', `is not a column of ${kind} (columns: ${known.join(', ')})`);
  const seen = new Set<string>();
  for (const name of columns) {
    if (seen.has(name)) report(0, name, 'is named twice in the header');
    seen.add(name);
  }
  const required = kind === 'orders' ? ['totalCents'] : ['name'];
  for (const name of required) if (!columns.includes(name)) report(0, name, 'is a required column');
  if (kind === 'orders') {
    for (const party of ['customer', 'supplier']) {
      if (!columns.includes(`${party}Id`) && !columns.includes(`${party}Email`))
        report(0, `${party}Id`, `give a ${party}Id or a ${party}Email column`);
    }
  }
  if (errorCount > 0) return { ok: false, errors, errorCount };

  const out: unknown[] = [];
  const firstRowOfId = new Map<string, number>();
  rows.forEach((fields, index) => {
    const row = index + 1;
    if (fields.length !== columns.length) {
      report(row, 'row', `has ${fields.length} fields; the header has ${columns.length}`);
      return;
    }
    const values = Object.fromEntries(columns.map((name, i) => [name, importCell(fields[i]!)]));
    const checked =
      kind === 'orders'
        ? orderRow(values, (field, message) => report(row, field, message))
        : partyRow(values, (field, message) => report(row, field, message));
    const id = checked && 'id' in checked ? checked.id : undefined;
    if (id !== undefined) {
      const first = firstRowOfId.get(id);
      if (first === undefined) firstRowOfId.set(id, row);
      else report(row, 'id', `is row ${first}'s id too`);
    }
    if (checked) out.push(checked);
  });
  return errorCount > 0 ? { ok: false, errors, errorCount } : { ok: true, rows: out as ImportRows<K> };
}

type Report = (field: string, message: string) => void;

function check<T>(schema: z.ZodType<T>, value: unknown, field: string, report: Report): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  report(field, result.error.issues[0]?.message ?? 'is not valid');
  return undefined;
}

function partyRow(values: Record<string, string>, report: Report): PartyRow | undefined {
  let ok = true;
  const fail: Report = (field, message) => {
    ok = false;
    report(field, message);
  };
  const row: Record<string, string> = {};
  if (values.id) {
    const id = check(objectId, values.id, 'id', fail);
    if (id !== undefined) row.id = id.toLowerCase();
  }
  if (values.createdAt) {
    const when = check(createdAt, values.createdAt, 'createdAt', fail);
    if (when !== undefined) row.createdAt = new Date(when).toISOString();
  }
  for (const field of partyFieldNames) {
    const value = values[field] ?? '';
    const checked = check(PARTY_FIELDS[field].rule, value, field, fail);
    if (checked !== undefined && (checked !== '' || !optionalPartyFields.includes(field as never))) row[field] = checked;
  }
  return ok ? (row as PartyRow) : undefined;
}

function orderRow(values: Record<string, string>, report: Report): OrderRow | undefined {
  let ok = true;
  const fail: Report = (field, message) => {
    ok = false;
    report(field, message);
  };
  const party = (name: 'customer' | 'supplier') => {
    const id = values[`${name}Id`] ?? '';
    const address = values[`${name}Email`] ?? '';
    if (!id && !address) return fail(`${name}Id`, `give ${name}Id or ${name}Email`);
    const checkedEmail = address ? check(email, address, `${name}Email`, fail) : undefined;
    if (!id) return checkedEmail === undefined ? undefined : { email: checkedEmail };
    const checkedId = check(objectId, id, `${name}Id`, fail);
    if (checkedId === undefined || (address && checkedEmail === undefined)) return undefined;
    return { id: checkedId.toLowerCase(), ...(checkedEmail ? { email: checkedEmail } : {}) };
  };
  const customer = party('customer');
  const supplier = party('supplier');
  const cents = values.totalCents ?? '';
  const total = /^\d{1,13}$/.test(cents)
    ? check(totalCents, Number(cents), 'totalCents', fail)
    : fail('totalCents', 'must be a whole number of cents');
  const when = values.createdAt ? check(createdAt, values.createdAt, 'createdAt', fail) : undefined;
  if (!ok || !customer || !supplier || total === undefined) return undefined;
  return { customer, supplier, totalCents: total, ...(when ? { createdAt: new Date(when).toISOString() } : {}) };
}
