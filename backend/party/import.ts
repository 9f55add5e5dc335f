import { actorOf } from '@pdash/backend-shared/audit';
import { rowFailures } from '@pdash/backend-shared/errors';
import { idsInFileOrder, readImport, writeImport } from '@pdash/backend-shared/import-stream';
import { IMPORT_LIMITS, type PartyValues, type RowError } from '@pdash/contracts';
import type { CreatePartyRequest, ImportPartiesRequest } from '@pdash/proto/common/v1/party';
import type { CallContext } from 'nice-grpc';
import type { z } from 'zod';
import type { PartyStore } from './store.js';

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

  return writeImport(
    store.imports,
    start,
    actorOf(context.metadata),
    store.importedDocs(values, idsInFileOrder(values.length), new Date()),
    {
      signal: context.signal,
    },
  );
}
