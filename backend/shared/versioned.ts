import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from 'mongodb';
import { Claims } from './claims.js';
import { DRIVER_TIMING } from './mongo.js';

/*
 * The storage protocol, in one module: how records are written safely on a database without
 * atomic conditional updates or transactions (FerretDB 1.x; on a real MongoDB it costs one small
 * insert more). docs/design.md, "Writes without transactions", is the one prose account.
 *
 *  - Versioned updates: the writer of version n + 1 first claims it (a unique `_id` insert, the one
 *    write FerretDB makes atomic), re-reads, then writes. Two writers can never both make n + 1.
 *  - Deletion marks: a delete marks the record first; while the mark stands, reference checks
 *    leave the record out, so nothing new may come to refer to it.
 *
 * Both rest on Claims (claims.ts). Their timing is one table, checked when a store is made.
 */

export const STORAGE_TIMING = {
  /**
   * A version claim older than this was left by a writer that died: it may be taken over. It must
   * outlive the slowest write its holder may still send (checkStorageTiming); a holder that got
   * too late to its write gives up instead (VersionedRecords.update).
   */
  claimStaleMs: 20_000,
  /** A delete gives up (and keeps the record) when this long has passed since it marked it. */
  deleteWithinMs: 5_000,
  /**
   * A deletion mark older than this was left by a deleter that died. It must outlive the slowest
   * removal a live delete can still send: deleteWithinMs, then a wait for a connection and the
   * removal's own socket time (checkStorageTiming). Otherwise a reference check could pass a
   * record whose removal is still landing.
   */
  deletionMarkStaleMs: 30_000,
  /** The database client's own limits (mongo.ts sets them on the client). */
  ...DRIVER_TIMING,
} as const;

export type StorageTiming = { [K in keyof typeof STORAGE_TIMING]: number };

/** Throws, naming the numbers, when the timing cannot keep the protocol's promise (a start-up check). */
export function checkStorageTiming(timing: StorageTiming = STORAGE_TIMING): StorageTiming {
  const slowestRemoval = timing.deleteWithinMs + sendAndLand(timing);
  if (slowestRemoval >= timing.deletionMarkStaleMs)
    throw new Error(
      `storage timing: a delete may still remove its record ${slowestRemoval} ms after marking it ` +
        `(deleteWithinMs ${timing.deleteWithinMs} + serverSelectionTimeoutMs + waitQueueTimeoutMs + ` +
        `socketTimeoutMs); deletionMarkStaleMs ${timing.deletionMarkStaleMs} must be longer`,
    );
  const slowestWrite = sendAndLand(timing);
  if (timing.claimStaleMs <= slowestWrite)
    throw new Error(
      `storage timing: a write may land ${slowestWrite} ms after it is started (serverSelectionTimeoutMs + ` +
        `waitQueueTimeoutMs + socketTimeoutMs); claimStaleMs ${timing.claimStaleMs} must be longer, or a claim ` +
        'could be taken over while its write is still landing',
    );
  return timing;
}

/** The longest one database operation may take from its start to landing: a server, a connection, the socket. */
const sendAndLand = (timing: StorageTiming) => timing.serverSelectionTimeoutMs + timing.waitQueueTimeoutMs + timing.socketTimeoutMs;

/** How long after taking its claim a writer may still start its last write: the claim must outlive that write. */
const writeWindowMs = (timing: StorageTiming) => timing.claimStaleMs - sendAndLand(timing);

/**
 * Thrown by a `write` that finds, before its last round trip, that its claim may no longer hold
 * (`inTime()` said no): nothing was written, and the update answers busy.
 */
export class WriteTooLate extends Error {
  constructor() {
    super('the write took too long to start; nothing was written');
  }
}

export type UpdateOutcome<D> = { status: 'updated'; record: D } | { status: 'missing' } | { status: 'conflict' } | { status: 'busy' };

const MAX_UPDATE_ATTEMPTS = 10;
const versionKey = (id: string, version: number) => `${id}:v${version}`;
const deletionKey = (id: string) => `${id}:delete`;

/** The protocol for one collection's records: `<name>_claims` and `<name>_deletion_marks` beside it. */
export class VersionedRecords {
  private readonly claims: Claims;
  private readonly marks: Claims;
  readonly timing: StorageTiming;

  constructor(db: Db, name: string, timing: StorageTiming = STORAGE_TIMING) {
    this.timing = checkStorageTiming(timing);
    this.claims = new Claims(db, `${name}_claims`, timing.claimStaleMs);
    // Never swept: a mark is dropped by its deleter, or goes stale (held() ignores it then).
    this.marks = new Claims(db, `${name}_deletion_marks`, timing.deletionMarkStaleMs, { sweep: false });
  }

  /**
   * One versioned update. `read` gives the record as it is now (nothing: missing); `write`, called
   * while this caller holds the claim on the next version and with the record as re-read under
   * it, makes the change and returns the new record (nothing when it found the record gone or moved).
   * A `write` that does more than one round trip (a reference check, then the write) asks
   * `inTime()` right before its last one and gives up (throws) when it says no.
   * With `expectedVersion` only that version may be changed; without it a lost race is retried.
   * A throw from `write` frees the claim (eventually, if the database is away) and passes through.
   *
   * The claim on the version written stays: it stops a late writer that read the version before.
   * The one before it is no longer looked at, and is swept once stale (a write saved per update).
   * Every release names the time its claim was taken, so it can never free a claim that another
   * writer took over after this one's went stale.
   */
  async update<D extends { version: number }>(
    id: string,
    options: {
      expectedVersion?: number;
      read(): Promise<D | null | undefined>;
      write(current: D, deadline: { inTime(): boolean }): Promise<D | null | undefined>;
    },
  ): Promise<UpdateOutcome<D>> {
    const { expectedVersion, read, write } = options;
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const current = await read();
      if (!current) return { status: 'missing' };
      if (expectedVersion !== undefined && current.version !== expectedVersion) return { status: 'conflict' };
      const claim = versionKey(id, current.version + 1);
      const at = await this.claims.takeAt(claim);
      if (at) {
        // A writer this slow (a starved process, a stalled database) could write after its claim
        // went stale and was taken over: it writes nothing and says busy instead.
        const inTime = () => Date.now() - at.getTime() <= writeWindowMs(this.timing);
        let written: D | null | undefined;
        try {
          const now = await read();
          if (!now) {
            await this.claims.release(claim, { at });
            return { status: 'missing' };
          }
          if (!inTime()) {
            await this.claims.releaseEventually(claim, { at });
            return { status: 'busy' };
          }
          written = now.version === current.version ? await write(now, { inTime }) : undefined;
        } catch (err) {
          // Most likely the database went away mid-write: the claim must not outlive the outage.
          // (A write the database still applies after its caller gave up on it is the one case
          // this cannot tell apart: docs/design.md.)
          await this.claims.releaseEventually(claim, { at });
          if (err instanceof WriteTooLate) return { status: 'busy' };
          throw err;
        }
        if (written) return { status: 'updated', record: written };
        await this.claims.release(claim, { at });
      } else if (!(await this.movesPast(read, current.version))) {
        // The claim stands but the record does not move: a writer that died mid-write (its claim
        // goes stale) rather than one that won. Not a version conflict; the caller may retry.
        return { status: 'busy' };
      }
      if (expectedVersion !== undefined) return { status: 'conflict' };
    }
    return { status: 'conflict' };
  }

  /** Whether the record leaves `version` within a moment, as it does when another writer holds the next one. */
  private async movesPast(read: () => Promise<{ version: number } | null | undefined>, version: number) {
    for (let poll = 0; poll < 10; poll++) {
      const doc = await read();
      if (!doc || doc.version !== version) return true;
      await sleep(20);
    }
    return false;
  }

  /**
   * The first step of a delete: while the mark stands, `beingDeleted` names the record, so that no
   * new reference to it is accepted. `at` is the mark's own time (ms). Busy when another delete holds it.
   */
  async markDeleting(id: string): Promise<{ status: 'marked'; at: number } | { status: 'busy' }> {
    const at = await this.marks.takeAt(deletionKey(id));
    return at ? { status: 'marked', at: at.getTime() } : { status: 'busy' };
  }

  /**
   * Whether a delete marked `at` may still remove its record: only within deleteWithinMs, so that
   * the removal lands while every reference check still sees the mark (checkStorageTiming).
   */
  mayStillRemove(at: number) {
    return Date.now() - at <= this.timing.deleteWithinMs;
  }

  /**
   * A delete that gives up before it sent its removal drops its mark (only its own: a mark that
   * went stale and was taken over by another delete stays). One whose removal was sent must not
   * call this: the removal may still land, and reference checks rely on a record being gone
   * before its mark is.
   */
  async unmarkDeleting(id: string, at: number) {
    await this.marks.releaseEventually(deletionKey(id), { at: new Date(at) });
  }

  /** After the record's removal: the mark goes last. */
  async removed(id: string, at: number) {
    await this.marks.release(deletionKey(id), { at: new Date(at) });
  }

  /**
   * Which of `ids` a delete is working on. For a reference check read this before the records,
   * never side by side: a delete removes the record before it drops its mark, so a check that finds
   * no mark and then finds the record knows it was not being deleted when it looked.
   */
  async beingDeleted(ids: string[]): Promise<Set<string>> {
    const held = await this.marks.held(ids.map(deletionKey));
    return new Set(ids.filter((id) => held.has(deletionKey(id))));
  }
}
