import type { Collection, Db } from 'mongodb';
import type { Imports } from './imports.js';

const DUPLICATE_KEY = 11000;
const CLAIM_CHUNK = 1_000;

interface IdClaim {
  /** The record id the import gives. */
  _id: string;
  importId: string;
  /** The run of that import that holds it: `<import id>:<attempt>` (imports.ts's run tag). */
  owner: string;
  at: Date;
}

/**
 * Record ids an import keeps from its file (a party export's `id` column), claimed while the import
 * runs. Two imports giving the same new id at once would both pass the check that no record has it,
 * and the second's copy would take the first's records for its own (imports.ts treats a taken `_id`
 * as copied before a crash): so each id is claimed first (a unique insert), and a claim whose import
 * is no longer writing (done, rolled back, forgotten: a crash's leftover) is taken over.
 */
export class ImportIds {
  private readonly claims: Collection<IdClaim>;

  constructor(
    db: Db,
    recordsName: string,
    private readonly imports: Imports,
  ) {
    this.claims = db.collection<IdClaim>(`${recordsName}_import_ids`);
  }

  /**
   * Claims `ids` for the run `owner` (`<import id>:<attempt>`) of the import `importId`, a run that
   * imports.ts's `begin` admitted; answers the ids another running import holds (those are not
   * claimed). The claims an earlier attempt of the same import left (it died) go first, at once.
   * `beat` after each chunk keeps the run alive for recovery.
   */
  async claim(ids: string[], importId: string, owner: string, beat: () => Promise<void>): Promise<Set<string>> {
    const attempt = attemptOf(owner);
    await this.claims.deleteMany({ importId, owner: { $in: Array.from({ length: attempt - 1 }, (_, i) => `${importId}:${i + 1}`) } });
    const busy = new Set<string>();
    for (let at = 0; at < ids.length; at += CLAIM_CHUNK) {
      await beat();
      const chunk = ids.slice(at, at + CLAIM_CHUNK);
      try {
        await this.claims.insertMany(
          chunk.map((_id) => ({ _id, importId, owner, at: new Date() })),
          { ordered: false },
        );
      } catch (err) {
        for (const index of duplicateIndexes(err)) if (!(await this.takeOver(chunk[index]!, importId, owner))) busy.add(chunk[index]!);
      }
    }
    return busy;
  }

  /** Gives back every id the run `owner` claimed (once it ended, either way). */
  async release(owner: string) {
    await this.claims.deleteMany({ owner });
  }

  /**
   * Takes the claim on `id` from a holder that no longer runs: an earlier run of this same import
   * (it was admitted, so that one ended), or another import that is not writing. False while
   * another import runs with it.
   */
  private async takeOver(id: string, importId: string, owner: string): Promise<boolean> {
    const holder = await this.claims.findOne({ _id: id });
    if (!holder) {
      try {
        await this.claims.insertOne({ _id: id, importId, owner, at: new Date() });
        return true;
      } catch {
        return false;
      }
    }
    if (holder.owner === owner) return true;
    // A later attempt of this import holds it: this run was rolled back meanwhile and gives way.
    if (holder.importId === importId && attemptOf(holder.owner) > attemptOf(owner)) return false;
    if (holder.importId !== importId && (await this.imports.isWriting(holder.importId))) return false;
    const taken = await this.claims.updateOne({ _id: id, owner: holder.owner }, { $set: { importId, owner, at: new Date() } });
    return taken.modifiedCount > 0;
  }
}

const attemptOf = (owner: string) => Number(owner.slice(owner.lastIndexOf(':') + 1));

/** The indexes, in an unordered insertMany's batch, of the documents refused as duplicates (anything else: thrown). */
function duplicateIndexes(err: unknown): number[] {
  const errors = (err as { writeErrors?: { code: number; index: number }[] | { code: number; index: number } }).writeErrors;
  const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
  if (list.length === 0 || list.some((e) => e.code !== DUPLICATE_KEY)) throw err;
  return list.map((e) => e.index);
}
