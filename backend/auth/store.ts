import { type Actor, AuditTrail, auditEntry } from '@pdash/backend-shared/audit';
import type { Logger } from '@pdash/backend-shared/logger';
import { collectionCount, containing } from '@pdash/backend-shared/mongo';
import { decodeCursor, pageFilter, toPage } from '@pdash/backend-shared/pagination';
import { diffChanges, type Role } from '@pdash/contracts';
import type { User } from '@pdash/proto/auth/v1/auth';
import { type Collection, type Db, type Filter, MongoServerError, ObjectId } from 'mongodb';

/** A user as MongoDB holds it; username and email are stored lower-cased, so the unique indexes compare them case-insensitively. */
export interface UserDoc {
  _id: ObjectId;
  username: string;
  email: string;
  /** argon2id PHC string; never leaves this service. */
  passwordHash: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
  /** Grows by one on each users.update: names the change in the history. */
  version: number;
}

/** What users.update may change. */
export interface UserChanges {
  role?: Role;
  disabled?: boolean;
}

const DUPLICATE_KEY = 11000;

export function toUser(doc: UserDoc): User {
  return {
    id: doc._id.toHexString(),
    username: doc.username,
    email: doc.email,
    // An account made before roles existed gets the least role (the first-admin step can promote it).
    role: doc.role ?? 'viewer',
    disabled: doc.disabled === true,
    createdAt: doc.createdAt.toISOString(),
  };
}

/** The MongoDB side of accounts: the `users` collection and its history. */
export class UserStore {
  readonly collection: Collection<UserDoc>;
  readonly trail: AuditTrail;

  constructor(db: Db, log?: Logger) {
    this.collection = db.collection<UserDoc>('users');
    this.trail = new AuditTrail(db, this.collection, log);
  }

  async ensureIndexes() {
    // One index per command: FerretDB 1.24 drops the connection when a multi-index
    // createIndexes names indexes that already exist (every start after the first).
    await this.collection.createIndex({ username: 1 }, { name: 'username_unique', unique: true });
    await this.collection.createIndex({ email: 1 }, { name: 'email_unique', unique: true });
    await this.collection.createIndex({ createdAt: -1, _id: -1 }, { name: 'newest_first' });
  }

  /**
   * Inserts the user with its history entry (`signed_up`, by the new user, or by `actor` when one
   * made the account), or names the field another user already holds (the unique indexes decide,
   * even under races).
   */
  async create(
    fields: Pick<UserDoc, 'username' | 'email' | 'passwordHash' | 'role'>,
    options: { actor?: Actor | null; invite?: string } = {},
  ): Promise<{ user: User } | { taken: 'username' | 'email' }> {
    const doc: UserDoc = { _id: new ObjectId(), ...fields, disabled: false, createdAt: new Date(), version: 1 };
    const id = doc._id.toHexString();
    const entry = auditEntry({
      step: 'signed_up',
      at: doc.createdAt,
      actor: options.actor === undefined ? { id, username: doc.username } : options.actor,
      action: 'signed_up',
      entity: 'user',
      entityId: id,
      changes: {
        username: { to: doc.username },
        email: { to: doc.email },
        role: { to: doc.role },
        ...(options.invite ? { invite: { to: options.invite } } : {}),
      },
    });
    await this.trail.announce(entry, doc._id);
    try {
      await this.collection.insertOne({ ...doc, ...this.trail.pendingDoc(entry) });
      await this.trail.deliver(entry, doc._id);
      return { user: toUser(doc) };
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
    }
    // FerretDB's duplicate-key error names no index, so ask which value is taken.
    const usernameTaken = await this.collection.countDocuments({ username: fields.username }, { limit: 1 });
    return { taken: usernameTaken > 0 ? 'username' : 'email' };
  }

  async get(id: ObjectId): Promise<User | undefined> {
    const doc = await this.getDoc(id);
    return doc ? toUser(doc) : undefined;
  }

  /** The account as stored (hash included: for this service only). */
  async getDoc(id: ObjectId): Promise<UserDoc | undefined> {
    return (await this.collection.findOne({ _id: id })) ?? undefined;
  }

  /** The user, hash included, whose username or email (already lower-cased) is `login`. */
  async findByLogin(login: string): Promise<UserDoc | undefined> {
    // A username cannot hold '@' and an email must: one unique index answers, on MongoDB. No
    // limit(1): FerretDB 1.x scans instead and would stop at the match, so an early user would be
    // found faster than an unknown login is missed; without a limit both scan the whole collection.
    const [user] = await this.collection.find(login.includes('@') ? { email: login } : { username: login }).toArray();
    return user;
  }

  /** Users newest first, `q` matching part of a username or an email. */
  async list(options: { q?: string; limit: number; cursor?: string }) {
    const pattern = options.q ? containing(options.q) : undefined;
    const filter: Filter<UserDoc> = pattern ? { $or: [{ username: pattern }, { email: pattern }] } : {};
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const [docs, total] = await Promise.all([
      this.collection
        .find(after ? { $and: [filter, pageFilter(after)] } : filter, { projection: { passwordHash: 0 } })
        .sort({ createdAt: -1, _id: -1 })
        .limit(options.limit + 1)
        .toArray(),
      pattern ? this.collection.countDocuments(filter) : collectionCount(this.collection),
    ]);
    return { ...toPage(docs, options.limit, toUser), total };
  }

  /** Whether any account is an enabled admin other than `except`. */
  async hasOtherEnabledAdmin(except?: ObjectId): Promise<boolean> {
    const admins = await this.collection.find({ role: 'admin' }, { projection: { _id: 1, disabled: 1 } }).toArray();
    return admins.some((admin) => admin.disabled !== true && !(except && admin._id.equals(except)));
  }

  /**
   * Applies users.update to `before` (read by the caller under the admin lock), with its history
   * entry; the account as it is now, or undefined when it is gone.
   */
  async update(before: UserDoc, changes: UserChanges, actor: Actor | null): Promise<User | undefined> {
    const after = { ...before, ...changes, version: (before.version ?? 1) + 1 };
    const changed = diffChanges(toUser(before), toUser(after), ['role', 'disabled']);
    if (Object.keys(changed).length === 0) return toUser(before);
    const entry = auditEntry({
      step: `v${after.version}`,
      at: new Date(),
      actor,
      action: 'updated',
      entity: 'user',
      entityId: before._id.toHexString(),
      changes: changed,
    });
    await this.trail.announce(entry, before._id);
    const result = await this.collection.updateOne(
      { _id: before._id },
      { $set: { ...changes, version: after.version, ...this.trail.pending(entry) } },
    );
    if (result.matchedCount === 0) return undefined;
    await this.trail.deliver(entry, before._id);
    return toUser(after);
  }
}
