import type { User } from '@pdash/proto/auth/v1/auth';
import { type Collection, type Db, MongoServerError, ObjectId } from 'mongodb';

/** A user as MongoDB holds it; username and email are stored lower-cased, so the unique indexes compare them case-insensitively. */
export interface UserDoc {
  _id: ObjectId;
  username: string;
  email: string;
  /** argon2id PHC string; never leaves this service. */
  passwordHash: string;
  createdAt: Date;
}

const DUPLICATE_KEY = 11000;

export function toUser(doc: UserDoc): User {
  return { id: doc._id.toHexString(), username: doc.username, email: doc.email, createdAt: doc.createdAt.toISOString() };
}

/** The MongoDB side of auth: the `users` collection, nothing else. */
export class UserStore {
  readonly collection: Collection<UserDoc>;

  constructor(db: Db) {
    this.collection = db.collection<UserDoc>('users');
  }

  async ensureIndexes() {
    // One index per command: FerretDB 1.24 drops the connection when a multi-index
    // createIndexes names indexes that already exist (every start after the first).
    await this.collection.createIndex({ username: 1 }, { name: 'username_unique', unique: true });
    await this.collection.createIndex({ email: 1 }, { name: 'email_unique', unique: true });
  }

  /** Inserts the user, or names the field another user already holds (the unique indexes decide, even under races). */
  async create(fields: Omit<UserDoc, '_id' | 'createdAt'>): Promise<{ user: User } | { taken: 'username' | 'email' }> {
    const doc: UserDoc = { _id: new ObjectId(), ...fields, createdAt: new Date() };
    try {
      await this.collection.insertOne(doc);
      return { user: toUser(doc) };
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
    }
    // FerretDB's duplicate-key error names no index, so ask which value is taken.
    const usernameTaken = await this.collection.countDocuments({ username: fields.username }, { limit: 1 });
    return { taken: usernameTaken > 0 ? 'username' : 'email' };
  }

  async get(id: ObjectId): Promise<User | undefined> {
    const doc = await this.collection.findOne({ _id: id }, { projection: { passwordHash: 0 } });
    return doc ? toUser(doc) : undefined;
  }

  /** The user, hash included, whose username or email (already lower-cased) is `login`. */
  async findByLogin(login: string): Promise<UserDoc | undefined> {
    // A username cannot hold '@' and an email must: one unique index answers, on MongoDB. No
    // limit(1): FerretDB 1.x scans instead and would stop at the match, so an early user would be
    // found faster than an unknown login is missed; without a limit both scan the whole collection.
    const [user] = await this.collection.find(login.includes('@') ? { email: login } : { username: login }).toArray();
    return user;
  }
}
