import { createHash } from 'node:crypto';
import type { AuditEntity } from '@pdash/contracts';
import { type Collection, type Db, type Document, MongoServerError, type ObjectId } from 'mongodb';
import type { Actor } from './actor.js';
import { AuditTrail, auditEntry } from './audit.js';
import { repeatInBackground } from './background.js';
import { ServerError, Status } from './errors.js';
import type { Logger } from './logger.js';

/*
 * Imports all or nothing, without transactions (API.md "Import and export"). An import writes its
 * records into a staging collection of its own, which no reader looks at, then makes one decision,
 * then copies them in:
 *
 *  - Each import has an id derived from its Idempotency-Key; each attempt at it is a run,
 *    `<id>:<n>`, started by inserting the claim `start:<run>`: one retry at a time. The run's
 *    records go to `<collection>_staging_<id>_<n>`.
 *  - A run ends by one decision, the insert of `end:<run>` saying commit or rollback: whoever
 *    inserts it first (the import itself, or a recovery that found it stalled) decides, and
 *    everyone after follows it. The commit's history entry is written inside that decision.
 *  - After a commit the staged records are inserted into the collection with their own ids (a
 *    repeated copy inserts nothing twice), after a rollback the staging collection is dropped.
 *    Both are idempotent: a process that dies midway leaves the import to `recover` (every replica,
 *    at start and every few seconds) or to the retry with the same key, which completes it.
 *
 * So an import cut off before its decision leaves none of its records visible, and one cut off
 * after it is completed. Staging and copying are insertMany's, FerretDB's fastest write (10,000
 * orders in about a second each way); revealing records in place meant one update per record,
 * which took longer than the driver's 10 s socket limit. docs/design.md, "Imports", is the prose
 * account.
 */

interface ImportDoc {
  _id: string;
  fingerprint: string;
  attempt: number;
  state: 'writing' | 'done' | 'failed';
  /** The run's last sign of life: a run silent for `staleMs` is rolled back (or, committed, its copy taken over). */
  at: Date;
  created?: number;
  /** The last staged id copied in (ids are copied in ascending order): a taken-over copy goes on from there. */
  copiedThrough?: ObjectId;
}

interface DecisionDoc {
  _id: string;
  outcome: 'commit' | 'rollback';
  created: number;
  at: Date;
}

const DUPLICATE_KEY = 11000;
/** How long an ended import (and so its Idempotency-Key) is remembered. */
const KEEP_MS = 24 * 3_600_000;
const EXPIRE_EVERY_MS = 3_600_000;
/** Records copied per insertMany: each well within the driver's socket limit. */
const COPY_CHUNK = 1_000;
const RECOVER_EVERY_MS = 5_000;
/** A run that has not written for this long is rolled back (a live run beats far more often). */
export const IMPORT_STALE_MS = 15_000;

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

/** One attempt at an import, as `Imports.begin` hands it to the caller that writes it. */
export interface ImportRun {
  importId: string;
  /** `<import id>:<attempt>`. */
  tag: string;
  /** Writes records to the run's staging collection (each with its final `_id`). */
  stage(records: Document[]): Promise<void>;
  /** Call after each chunk written: keeps recovery from taking the run for dead. */
  beat(): Promise<void>;
  /** Decides commit and reveals the records; false when a recovery rolled the run back first. */
  commit(created: number): Promise<boolean>;
  /** Decides rollback (unless committed already: then completes the copy) and drops the run's records. */
  rollBack(): Promise<'committed' | 'rolled back'>;
}

export type BeginOutcome = { status: 'run'; run: ImportRun } | { status: 'done'; created: number };

/** Imports into one collection (`records`), for the service that owns it. */
export class Imports {
  private readonly imports: Collection<ImportDoc>;
  private readonly decisions: Collection<DecisionDoc>;
  private readonly claims: Collection<{ _id: string; at: Date }>;
  private readonly trail: AuditTrail;
  private readonly records: Collection<Document>;
  private lastExpiry = 0;

  constructor(
    private readonly db: Db,
    // biome-ignore lint/suspicious/noExplicitAny: any record type: imports copy whole documents
    records: Collection<any>,
    private readonly options: {
      entity: AuditEntity;
      log?: Logger;
      staleMs?: number;
      /** After an import's records are in, whoever copied them (the import, a recovery, a retry). */
      onCommitted?: (created: number) => Promise<void>;
    },
  ) {
    this.records = records as Collection<Document>;
    const name = records.collectionName;
    this.imports = db.collection<ImportDoc>(`${name}_imports`);
    this.decisions = db.collection<DecisionDoc>(`${name}_import_decisions`);
    this.claims = db.collection(`${name}_import_claims`);
    this.trail = new AuditTrail(db, this.decisions, options.log);
  }

  /** Whether the import `importId` has a run under way (not done, rolled back or forgotten). */
  async isWriting(importId: string): Promise<boolean> {
    return (await this.imports.countDocuments({ _id: importId, state: 'writing' })) > 0;
  }

  /** The id of the import made with `key`: the same key, the same import. */
  idOf(key: string) {
    return createHash('sha256').update(`${this.records.collectionName}:${key}`).digest('hex').slice(0, 24);
  }

  /**
   * Starts a run of the import `key` (a file whose content hashes to `fingerprint`), or says it
   * was done already (completing a committed one that was cut off). INVALID_ARGUMENT when the key
   * was used for another file; UNAVAILABLE while another run of it is under way.
   */
  async begin(key: string, fingerprint: string, actor: Actor | null): Promise<BeginOutcome> {
    const importId = this.idOf(key);
    const doc = await this.imports.findOne({ _id: importId });
    if (doc && doc.fingerprint !== fingerprint)
      throw new ServerError(Status.INVALID_ARGUMENT, 'Idempotency-Key: was used for a different file; use a new key');
    if (doc?.state === 'done') return { status: 'done', created: doc.created ?? 0 };
    let attempt = 1;
    if (doc) {
      const settled = await this.settle(doc);
      if (settled.status === 'done') return settled;
      if (settled.status === 'busy') throw underWay();
      attempt = doc.attempt + 1;
    }
    // A run whose start claim stands but which never recorded itself (it died between the two
    // writes) is rolled back once its claim is stale, and the next attempt is tried.
    for (; ; attempt++) {
      const claim = `start:${importId}:${attempt}`;
      try {
        await this.claims.insertOne({ _id: claim, at: new Date() });
        break;
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
      const held = await this.claims.findOne({ _id: claim });
      if (!held || Date.now() - held.at.getTime() <= this.staleMs) throw underWay();
      const decision = await this.decide(`${importId}:${attempt}`, 'rollback', 0, null);
      if (decision.outcome === 'commit') throw underWay();
      await this.dropStaging(`${importId}:${attempt}`);
    }
    await this.imports.replaceOne({ _id: importId }, { fingerprint, attempt, state: 'writing', at: new Date() }, { upsert: true });
    return { status: 'run', run: this.run(importId, attempt, actor) };
  }

  private get staleMs() {
    return this.options.staleMs ?? IMPORT_STALE_MS;
  }

  /**
   * How many staged records of the runs under way have `field` equal to `value`: for orders, the
   * references a delete of a customer or supplier must wait for (they are about to exist).
   */
  async staged(field: string, value: unknown): Promise<number> {
    const open = await this.imports.find({ state: 'writing' }).toArray();
    const counts = await Promise.all(open.map((doc) => this.staging(`${doc._id}:${doc.attempt}`).countDocuments({ [field]: value })));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  /** Settles every import whose run is decided or stalled (at start and every few seconds). */
  async recover(): Promise<number> {
    const open = await this.imports.find({ state: 'writing' }, { projection: { _id: 1 } }).toArray();
    let settled = 0;
    for (const { _id } of open) {
      // Read again: an earlier settle may have taken long, and this run may have moved on meanwhile.
      const doc = await this.imports.findOne({ _id });
      if (doc?.state === 'writing' && (await this.settle(doc)).status !== 'busy') settled++;
    }
    await this.dropOrphanStaging();
    await this.expire();
    if (settled > 0) this.options.log?.info({ settled, collection: this.records.collectionName }, 'imports settled');
    return settled;
  }

  /** Staging collections of no run under way (a late writer of a rolled-back run made one again). */
  private async dropOrphanStaging() {
    const prefix = `${this.records.collectionName}_staging_`;
    const names = (await this.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith(prefix));
    for (const name of names) {
      const [importId, attempt] = name.slice(prefix.length).split('_');
      const doc = await this.imports.findOne({ _id: importId ?? '' });
      const live = doc?.state === 'writing' && doc.attempt === Number(attempt);
      const young = doc && Date.now() - doc.at.getTime() <= this.staleMs;
      if (!live && !young) await this.dropStaging(`${importId}:${attempt}`);
    }
  }

  startRecovery(): () => Promise<unknown> {
    return repeatInBackground(
      RECOVER_EVERY_MS,
      () => Promise.all([this.recover(), this.trail.recover()]),
      (err) => this.options.log?.warn({ err }, 'import recovery failed; will retry'),
    );
  }

  /**
   * Brings a run to its end: follows its decision, or decides rollback for a stalled one. 'busy'
   * while its own process may still be at work: writing, or copying a committed run in (a copy is
   * taken over only once it has been silent for `staleMs`, and goes on where it stopped).
   */
  private async settle(doc: ImportDoc): Promise<{ status: 'done'; created: number } | { status: 'rolled back' } | { status: 'busy' }> {
    const tag = `${doc._id}:${doc.attempt}`;
    const stalled = Date.now() - doc.at.getTime() > this.staleMs;
    let decision = await this.decisions.findOne({ _id: `end:${tag}` });
    if (!decision) {
      if (!stalled) return { status: 'busy' };
      decision = await this.decide(tag, 'rollback', 0, null);
    }
    if (decision.outcome === 'commit') {
      if (!stalled) return { status: 'busy' };
      await this.reveal(doc, tag, decision.created);
      return { status: 'done', created: decision.created };
    }
    await this.discard(doc._id, tag);
    return { status: 'rolled back' };
  }

  private staging(tag: string) {
    return this.db.collection(`${this.records.collectionName}_staging_${tag.replace(':', '_')}`);
  }

  private async discard(importId: string, tag: string) {
    await this.dropStaging(tag);
    await this.imports.updateOne({ _id: importId, attempt: Number(tag.split(':')[1]) }, { $set: { state: 'failed' } });
  }

  /** The run's one decision: this one when it is the first, else the one made before. */
  private async decide(tag: string, outcome: DecisionDoc['outcome'], created: number, actor: Actor | null): Promise<DecisionDoc> {
    const _id = `end:${tag}`;
    const decision: DecisionDoc = { _id, outcome, created, at: new Date() };
    const importId = tag.split(':')[0]!;
    const entry =
      outcome === 'commit'
        ? auditEntry({
            step: 'imported',
            at: decision.at,
            actor,
            action: 'imported',
            entity: this.options.entity,
            entityId: importId,
            changes: { created: { to: created } },
          })
        : undefined;
    try {
      if (entry) await this.trail.announce(entry, _id);
      await this.decisions.insertOne({ ...decision, ...(entry ? this.trail.pendingDoc(entry) : {}) });
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      const made = await this.decisions.findOne({ _id });
      if (!made) throw err;
      return made;
    }
    if (entry) await this.trail.deliver(entry, _id);
    return decision;
  }

  /** Copies the run's staged records in (again, if a copy was cut off: what is there is kept), then drops the staging. */
  private async reveal(doc: Pick<ImportDoc, '_id' | 'copiedThrough'>, tag: string, created: number) {
    const importId = doc._id;
    const after: Document = doc.copiedThrough === undefined ? {} : { _id: { $gt: doc.copiedThrough } };
    const cursor = this.staging(tag).find(after).sort({ _id: 1 }).batchSize(COPY_CHUNK);
    let chunk: Document[] = [];
    const copy = async () => {
      if (chunk.length === 0) return;
      try {
        await this.records.insertMany(chunk, { ordered: false });
      } catch (err) {
        // Copied before a crash: those ids are taken by the very same records.
        const errors = (err as { writeErrors?: { code: number }[] | { code: number } }).writeErrors;
        const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
        if (!(err instanceof MongoServerError || list.length > 0) || list.length === 0 || list.some((e) => e.code !== DUPLICATE_KEY))
          throw err;
      }
      // Progress, and a sign of life: a recovery takes over a copy only once this goes quiet.
      await this.imports.updateOne({ _id: importId }, { $set: { copiedThrough: chunk.at(-1)!._id, at: new Date() } });
      chunk = [];
    };
    for await (const doc of cursor) {
      chunk.push(doc);
      if (chunk.length >= COPY_CHUNK) await copy();
    }
    await copy();
    // Dropped first: a crash between the two leaves a done-to-be import whose copy finds nothing left.
    await this.dropStaging(tag);
    await this.imports.updateOne({ _id: importId }, { $set: { state: 'done', created, at: new Date() } });
    await this.options.onCommitted?.(created).catch((err: unknown) => this.options.log?.warn({ err }, 'after-import step failed'));
  }

  /**
   * Forgets imports ended more than KEEP_MS ago (their key, claims and decision): an
   * Idempotency-Key is remembered for a day, as an order create's is. At most once an hour.
   */
  private async expire() {
    if (Date.now() - this.lastExpiry < EXPIRE_EVERY_MS) return;
    this.lastExpiry = Date.now();
    const old = await this.imports.find({ state: { $in: ['done', 'failed'] }, at: { $lt: new Date(Date.now() - KEEP_MS) } }).toArray();
    for (const doc of old) {
      const attempts = Array.from({ length: doc.attempt }, (_, i) => `${doc._id}:${i + 1}`);
      await this.claims.deleteMany({ _id: { $in: attempts.map((tag) => `start:${tag}`) } });
      await this.decisions.deleteMany({ _id: { $in: attempts.map((tag) => `end:${tag}`) } });
      await this.imports.deleteOne({ _id: doc._id });
    }
  }

  private async dropStaging(tag: string) {
    await this.staging(tag)
      .drop()
      .catch((err: unknown) => {
        // Never made (a run that failed before staging anything), or dropped already.
        if (!(err instanceof MongoServerError && (err.code === 26 || /not found/i.test(err.message)))) throw err;
      });
  }

  private run(importId: string, attempt: number, actor: Actor | null): ImportRun {
    const tag = `${importId}:${attempt}`;
    // Only this attempt's record: a late writer of a rolled-back run must not keep a newer one looking alive.
    const beat = () => this.imports.updateOne({ _id: importId, attempt }, { $set: { at: new Date() } }).then(() => {});
    return {
      importId,
      tag,
      stage: async (records) => {
        if (records.length > 0) await this.staging(tag).insertMany(records, { ordered: false });
        await beat();
      },
      beat,
      commit: async (created) => {
        const decision = await this.decide(tag, 'commit', created, actor);
        if (decision.outcome !== 'commit') {
          await this.discard(importId, tag);
          return false;
        }
        await this.reveal({ _id: importId }, tag, created);
        return true;
      },
      rollBack: async () => {
        const decision = await this.decide(tag, 'rollback', 0, null);
        if (decision.outcome === 'commit') {
          await this.reveal((await this.imports.findOne({ _id: importId })) ?? { _id: importId }, tag, decision.created);
          return 'committed';
        }
        await this.discard(importId, tag);
        return 'rolled back';
      },
    };
  }
}

const underWay = () => new ServerError(Status.UNAVAILABLE, 'an import with this Idempotency-Key is under way; try again shortly');
