import { actorOf } from '@pdash/backend-shared/audit';
import { idsInFileOrder, RowProblems, readImport, writeImport } from '@pdash/backend-shared/import-stream';
import { totalCents } from '@pdash/contracts';
import type { ImportOrderRow, ImportOrdersRequest } from '@pdash/proto/orders/v1/orders';
import { ObjectId } from 'mongodb';
import type { CallContext } from 'nice-grpc';
import type { Parties } from './parties.js';
import type { OrdersStore } from './store.js';

type Kind = 'customer' | 'supplier';
const HEX24 = /^[0-9a-f]{24}$/i;

/**
 * Import of orders, all or nothing (backend/shared/imports.ts): parties named by email are found
 * in bulk, then the orders are staged (the reference protocol of store.ts: a delete of a party
 * they name counts them as pending and waits), then every party they name is checked once, in bulk, with
 * forReference; then the import commits, and one IMPORTED event tells the watchers.
 */
export async function importOrders(
  deps: { store: OrdersStore; parties: Parties },
  requests: AsyncIterable<ImportOrdersRequest>,
  context: CallContext,
) {
  const { store, parties } = deps;
  const { start, rows } = await readImport(requests, (row: ImportOrderRow) => row);
  const problems = new Problems();
  const now = new Date();
  const resolved = await resolve(parties, rows, problems, context);
  rows.forEach((row, index) => {
    if (!totalCents.safeParse(row.totalCents).success) problems.add(index + 1, 'totalCents', 'must be a whole number of cents, 0..1e12');
    const when = row.createdAt ? Date.parse(row.createdAt) : now.getTime();
    if (!Number.isFinite(when) || when > now.getTime() + 60_000) problems.add(index + 1, 'createdAt', 'must be a time not in the future');
  });
  // Every problem at once, before anything is written.
  await Promise.all([
    checkExist(parties, 'customer', resolved.ids.customer, problems, false, context),
    checkExist(parties, 'supplier', resolved.ids.supplier, problems, false, context),
  ]);
  problems.throwIfAny();
  if (start.dryRun) return { created: rows.length, importId: '' };

  const ids = idsInFileOrder(rows.length);
  const docs = rows.map((row, i) => ({
    _id: ids[i]!,
    customerId: ObjectId.createFromHexString(resolved.refs[i]!.customer),
    supplierId: ObjectId.createFromHexString(resolved.refs[i]!.supplier),
    totalCents: row.totalCents,
    createdAt: row.createdAt ? new Date(row.createdAt) : now,
  }));
  const result = await writeImport(store.imports, start, actorOf(context.metadata), store.importedDocs(docs), {
    signal: context.signal,
    // Staged first, checked after (store.ts): a party deleted meanwhile is missing here, or its
    // delete counted these staged orders as pending and waited.
    beforeCommit: async (beat) => {
      await Promise.all([
        checkExist(parties, 'customer', resolved.ids.customer, problems, true, context, beat),
        checkExist(parties, 'supplier', resolved.ids.supplier, problems, true, context, beat),
      ]);
      problems.throwIfAny();
    },
  });
  return result;
}

/** Row problems, and the rows that name each party id (for the problems of a party that does not exist). */
class Problems extends RowProblems {
  readonly rowsOf: Record<Kind, Map<string, number[]>> = { customer: new Map(), supplier: new Map() };
}

/** Each row's customer and supplier ids: given (with its email, if any, checked), or found by email (exactly one record must have it). */
async function resolve(parties: Parties, rows: ImportOrderRow[], problems: Problems, context: CallContext) {
  const byEmail: Record<Kind, Map<string, string[]>> = { customer: new Map(), supplier: new Map() };
  for (const kind of ['customer', 'supplier'] as const) {
    const emails = [...new Set(rows.map((row) => row[`${kind}Email`]?.toLowerCase()).filter((e): e is string => !!e))];
    byEmail[kind] = await parties.idsByEmail(kind, emails, context);
  }
  const ids: Record<Kind, Set<string>> = { customer: new Set(), supplier: new Set() };
  const refs = rows.map((row, index) => {
    const ref = { customer: '', supplier: '' };
    for (const kind of ['customer', 'supplier'] as const) {
      const id = row[`${kind}Id`]?.toLowerCase();
      const email = row[`${kind}Email`]?.toLowerCase();
      if (id) {
        if (!HEX24.test(id)) problems.add(index + 1, `${kind}Id`, 'must be a 24-character hex ObjectId');
        else ref[kind] = id;
        // Both (an export writes both): the id names the party, and the email must agree with it.
        if (email && ref[kind] && !(byEmail[kind].get(email) ?? []).includes(id))
          problems.add(index + 1, `${kind}Email`, `is not the email of ${kind} ${id}`);
      } else if (email) {
        const found = byEmail[kind].get(email) ?? [];
        if (found.length === 1) ref[kind] = found[0]!;
        else
          problems.add(
            index + 1,
            `${kind}Email`,
            found.length === 0 ? `no ${kind} has ${email}` : `${found.length} ${kind}s have ${email}; use ${kind}Id`,
          );
      } else problems.add(index + 1, `${kind}Id`, `give ${kind}Id or ${kind}Email`);
      if (ref[kind]) {
        ids[kind].add(ref[kind]);
        const rowsOf = problems.rowsOf[kind];
        rowsOf.set(ref[kind], [...(rowsOf.get(ref[kind]) ?? []), index + 1]);
      }
    }
    return ref;
  });
  return { refs, ids };
}

/** Every row naming a party that does not exist (with `forReference`: or is being deleted) is a problem. */
async function checkExist(
  parties: Parties,
  kind: Kind,
  ids: Set<string>,
  problems: Problems,
  forReference: boolean,
  context: CallContext,
  beat?: () => Promise<void>,
) {
  const found = await parties.existing(kind, [...ids], forReference, context, beat);
  for (const id of ids) {
    if (found.has(id)) continue;
    for (const row of problems.rowsOf[kind].get(id) ?? []) problems.add(row, `${kind}Id`, `no ${kind} ${id}`);
  }
  return found;
}
