import { actorOf } from '@pdash/backend-shared/audit';
import { idsInFileOrder, RowProblems, readImport, writeImport } from '@pdash/backend-shared/import-stream';
import type { PartyValues } from '@pdash/contracts';
import type { CreatePartyRequest, ImportPartiesRequest, ImportPartyRow } from '@pdash/proto/common/v1/party';
import { ObjectId } from 'mongodb';
import type { CallContext } from 'nice-grpc';
import type { z } from 'zod';
import type { PartyStore } from './store.js';

const HEX24 = /^[0-9a-f]{24}$/i;

/**
 * Import: the stream's rows, each checked with the same rules as Create; any bad row refuses the
 * whole import (IMPORT_ROWS, every row listed up to the limit) before anything is written. Then all
 * or nothing through the store's Imports (backend/shared/imports.ts).
 *
 * A row may keep its record's `id` and `createdAt` (a file this service exported): an id that a
 * record of this kind has, or had, is refused, so a record is never made twice and a new one never
 * shares a deleted one's history.
 */
export async function importParties(
  store: PartyStore,
  createSchema: z.ZodType<PartyValues, CreatePartyRequest>,
  requests: AsyncIterable<ImportPartiesRequest>,
  context: CallContext,
) {
  const { start, rows } = await readImport(requests, (row: ImportPartyRow) => row);
  const problems = new RowProblems();
  const now = new Date();
  const values: (PartyValues & { createdAt?: Date })[] = [];
  const rowOfId = new Map<string, number>();
  rows.forEach((row, index) => {
    const { id, createdAt, ...fields } = row;
    const checked = createSchema.safeParse(fields);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      problems.add(index + 1, String(issue?.path[0] ?? 'row'), issue?.message ?? 'is not valid');
    }
    if (id !== undefined) {
      const first = rowOfId.get(id.toLowerCase());
      if (!HEX24.test(id)) problems.add(index + 1, 'id', 'must be a 24-character hex ObjectId');
      else if (first !== undefined) problems.add(index + 1, 'id', `is row ${first}'s id too`);
      else rowOfId.set(id.toLowerCase(), index + 1);
    }
    const when = createdAt === undefined ? undefined : Date.parse(createdAt);
    if (when !== undefined && (!Number.isFinite(when) || when > now.getTime() + 60_000))
      problems.add(index + 1, 'createdAt', 'must be a time not in the future');
    if (checked.success) values.push(when === undefined ? checked.data : { ...checked.data, createdAt: new Date(when) });
  });
  problems.throwIfAny();
  const given = [...rowOfId.keys()];
  const refuseUsed = async (beat?: () => Promise<void>) => {
    for (const id of await store.usedIds(given, beat))
      problems.add(rowOfId.get(id)!, 'id', `a ${store.entity} with id ${id} exists or existed; leave id empty for a new one`);
    problems.throwIfAny();
  };
  if (start.dryRun) {
    await refuseUsed();
    return { created: values.length, importId: '' };
  }

  const fresh = idsInFileOrder(rows.length);
  const ids = rows.map((row, i) => (row.id === undefined ? fresh[i]! : ObjectId.createFromHexString(row.id.toLowerCase())));
  const importId = store.imports.idOf(start.idempotencyKey);
  let owner: string | undefined;
  try {
    return await writeImport(store.imports, start, actorOf(context.metadata), store.importedDocs(values, ids, now), {
      signal: context.signal,
      // Once the run is under way (a retry of a done import is answered before: its ids are its
      // own records now): the ids are this run's (import-ids.ts), then none may be in use.
      afterBegin:
        given.length === 0
          ? undefined
          : async (run) => {
              owner = run.tag;
              for (const id of await store.importIds.claim(given, importId, owner, run.beat))
                problems.add(rowOfId.get(id)!, 'id', 'is being imported by another import; try again when it is done');
              problems.throwIfAny();
              await refuseUsed(run.beat);
            },
    });
  } finally {
    // Kept while the import may still be writing (committed, its copy cut off: recovery or a retry
    // completes it); a later run takes them over once it is not.
    if (owner && !(await store.imports.isWriting(importId).catch(() => true))) await store.importIds.release(owner).catch(() => {});
  }
}
