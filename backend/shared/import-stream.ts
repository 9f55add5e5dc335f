import { IMPORT_LIMITS, type RowError } from '@pdash/contracts';
import type { ImportStart } from '@pdash/proto/common/v1/imports';
import type { Document } from 'mongodb';
import { ObjectId } from 'mongodb';
import type { Actor } from './actor.js';
import { invalidArgument, rowFailures, ServerError, Status } from './errors.js';
import type { Imports } from './imports.js';

/*
 * A service's side of an Import call, on top of the protocol (imports.ts): reading the client
 * stream, and writing a checked import all or nothing.
 */

/** Records staged per insertMany. */
const STAGE_CHUNK = 1_000;

/**
 * An import its caller has checked, written all or nothing: begun (or found done already, when
 * it is a retry), its records staged in chunks, `beforeCommit` (orders check their parties there,
 * after staging), committed. Any failure rolls the run back and passes through.
 */
export async function writeImport(
  imports: Imports,
  start: ImportStart,
  actor: Actor | null,
  records: Document[],
  options: {
    signal: AbortSignal;
    /** Checks that need the run (a retry of a done import never gets here): a throw rolls it back. */
    afterBegin?: (run: { tag: string; beat(): Promise<void> }) => Promise<void>;
    beforeCommit?: (beat: () => Promise<void>) => Promise<void>;
  },
): Promise<{ created: number; importId: string }> {
  options.signal.throwIfAborted();
  const begun = await imports.begin(start.idempotencyKey, start.fingerprint, actor);
  if (begun.status === 'done') return { created: begun.created, importId: imports.idOf(start.idempotencyKey) };
  const { run } = begun;
  const made = { created: records.length, importId: run.importId };
  try {
    await options.afterBegin?.(run);
    for (let at = 0; at < records.length; at += STAGE_CHUNK) {
      options.signal.throwIfAborted();
      await run.stage(records.slice(at, at + STAGE_CHUNK));
    }
    await options.beforeCommit?.(run.beat);
    options.signal.throwIfAborted();
    if (!(await run.commit(records.length)))
      throw new ServerError(Status.UNAVAILABLE, 'the import stalled and was rolled back; send it again with the same Idempotency-Key');
    return made;
  } catch (err) {
    // Decided commit before the failure (the copy, say, failed after it): done, not failed.
    const outcome = await run.rollBack().catch(() => undefined);
    if (outcome === 'committed') return made;
    throw err;
  }
}

/** New ids for `count` records, the first the highest: records of one createdAt then list (newest first) in the file's order. */
export const idsInFileOrder = (count: number) => Array.from({ length: count }, () => new ObjectId()).reverse();

/** Reads an import stream: its `start`, then every row of its chunks (at most IMPORT_LIMITS.maxRows). */
export async function readImport<M extends { start?: ImportStart; rows?: { rows: R[] } }, R, T>(
  requests: AsyncIterable<M>,
  map: (row: R) => T,
): Promise<{ start: ImportStart; rows: T[] }> {
  let start: ImportStart | undefined;
  const rows: T[] = [];
  for await (const message of requests) {
    if (!start) {
      if (!message.start) throw invalidArgument('start', 'the first message of an import must be its start');
      start = message.start;
      if (!start.idempotencyKey && !start.dryRun) throw invalidArgument('idempotencyKey', 'is required');
      continue;
    }
    for (const row of message.rows?.rows ?? []) {
      if (rows.length >= IMPORT_LIMITS.maxRows) throw invalidArgument('rows', `at most ${IMPORT_LIMITS.maxRows}`);
      rows.push(map(row));
    }
  }
  if (!start) throw invalidArgument('start', 'an import needs its start');
  // A stream cut short (the caller gone) ends like a whole one: only the count tells them apart.
  if (rows.length !== start.totalRows) throw invalidArgument('rows', `${rows.length} arrived of the ${start.totalRows} announced`);
  return { start, rows };
}

/** An import's row problems: every one counted, the first IMPORT_LIMITS.maxListedErrors listed, thrown at once in row order. */
export class RowProblems {
  private readonly listed: RowError[] = [];
  private count = 0;

  add(row: number, field: string, message: string) {
    this.count++;
    if (this.listed.length < IMPORT_LIMITS.maxListedErrors) this.listed.push({ row, field, message });
  }

  throwIfAny() {
    if (this.count > 0)
      throw rowFailures(
        [...this.listed].sort((a, b) => a.row - b.row),
        this.count,
      );
  }
}
