import { actorOf } from '@pdash/backend-shared/audit';
import { rowFailures } from '@pdash/backend-shared/errors';
import { readImport } from '@pdash/backend-shared/imports';
import { IMPORT_LIMITS, type PartyValues, type RowError } from '@pdash/contracts';
import type { CreatePartyRequest, ImportPartiesRequest } from '@pdash/proto/common/v1/party';
import { ObjectId } from 'mongodb';
import type { CallContext } from 'nice-grpc';
import type { z } from 'zod';
import type { PartyStore } from './store.js';

/** Records written per insertMany (and per heartbeat of the run). */
const CHUNK = 1_000;

/**
 * Import: the stream's rows, each checked with the same rules as Create; any bad row refuses the
 * whole import (IMPORT_ROWS, every row listed up to the limit) before anything is written. Then all
 * or nothing through the store's Imports (backend/shared/imports.ts).
 */
export async function importParties(
  store: PartyStore,
  createSchema: z.ZodType<PartyValues, CreatePartyRequest>,
  requests: AsyncIterable<ImportPartiesRequest>,
  context: CallContext,
) {
  const { start, rows } = await readImport(requests, (row: CreatePartyRequest) => row);
  const values: PartyValues[] = [];
  const errors: RowError[] = [];
  let errorCount = 0;
  rows.forEach((row, index) => {
    const checked = createSchema.safeParse(row);
    if (checked.success) values.push(checked.data);
    else {
      errorCount++;
      const issue = checked.error.issues[0];
      if (errors.length < IMPORT_LIMITS.maxListedErrors)
        errors.push({ row: index + 1, field: String(issue?.path[0] ?? 'row'), message: issue?.message ?? 'is not valid' });
    }
  });
  if (errorCount > 0) throw rowFailures(errors, errorCount);
  if (start.dryRun) return { created: values.length, importId: '' };

  const begun = await store.imports.begin(start.idempotencyKey, start.fingerprint, actorOf(context.metadata));
  if (begun.status === 'done') return { created: begun.created, importId: store.imports.idOf(start.idempotencyKey) };
  const { run } = begun;
  try {
    // The first row gets the highest id: with one createdAt for all, they list in the file's order.
    const ids = values.map(() => new ObjectId()).reverse();
    const createdAt = new Date();
    for (let at = 0; at < values.length; at += CHUNK) {
      context.signal.throwIfAborted();
      await run.stage(store.importedDocs(values.slice(at, at + CHUNK), ids.slice(at, at + CHUNK), createdAt));
    }
    if (!(await run.commit(values.length))) throw new Error('the import was rolled back by a recovery before it could commit');
    return { created: values.length, importId: run.importId };
  } catch (err) {
    await run.rollBack().catch(() => {});
    throw err;
  }
}
