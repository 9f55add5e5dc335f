import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Actor, AuditTrail, auditEntry } from '@pdash/backend-shared/audit';
import type { Logger } from '@pdash/backend-shared/logger';
import { INVITE_CODE, type Role } from '@pdash/contracts';
import { type Collection, type Db, MongoServerError, ObjectId } from 'mongodb';

/** An invitation as MongoDB holds it: never the code, only a hash of its secret part. */
interface InviteDoc {
  _id: ObjectId;
  secretHash: string;
  role: Role;
  email?: string;
  expiresAt: Date;
  createdAt: Date;
  createdBy: Actor | null;
}

/** A use of an invitation: `_id` is the invite's, so the unique index lets only one sign-up have it. */
interface InviteUseDoc {
  _id: ObjectId;
  at: Date;
}

const DUPLICATE_KEY = 11000;
const hashSecret = (secret: string) => createHash('sha256').update(secret).digest();

/**
 * Invitations (`invites`): single-use codes that let someone sign up with a role. A code is
 * `<invite id>.<32 random bytes, base64url>`; only a hash of the secret part is stored. FerretDB has
 * no atomic conditional update, so a code is used by inserting its use (`invite_uses`, keyed by
 * the invite): the unique `_id` lets one sign-up through, and a sign-up that then fails gives it back.
 */
export class InviteStore {
  private readonly invites: Collection<InviteDoc>;
  private readonly uses: Collection<InviteUseDoc>;
  readonly trail: AuditTrail;

  constructor(db: Db, log?: Logger) {
    this.invites = db.collection<InviteDoc>('invites');
    this.uses = db.collection<InviteUseDoc>('invite_uses');
    this.trail = new AuditTrail(db, this.invites, log);
  }

  /** A new invitation and its history entry (`invited`, about the invite's id). */
  async create(fields: { role: Role; email?: string; expiresInHours: number }, actor: Actor | null) {
    const secret = randomBytes(32).toString('base64url');
    const now = new Date();
    const doc: InviteDoc = {
      _id: new ObjectId(),
      secretHash: hashSecret(secret).toString('hex'),
      role: fields.role,
      ...(fields.email ? { email: fields.email } : {}),
      expiresAt: new Date(now.getTime() + fields.expiresInHours * 3_600_000),
      createdAt: now,
      createdBy: actor,
    };
    const entry = auditEntry({
      step: 'invited',
      at: now,
      actor,
      action: 'invited',
      entity: 'user',
      entityId: doc._id.toHexString(),
      changes: {
        role: { to: doc.role },
        ...(doc.email ? { email: { to: doc.email } } : {}),
        expiresAt: { to: doc.expiresAt.toISOString() },
      },
    });
    await this.trail.announce(entry, doc._id);
    await this.invites.insertOne({ ...doc, ...this.trail.pendingDoc(entry) });
    await this.trail.deliver(entry, doc._id);
    return { code: `${doc._id.toHexString()}.${secret}`, role: doc.role, email: doc.email, expiresAt: doc.expiresAt };
  }

  /** Whether `code` names an invitation that is not expired and not used (it may still be taken first by another). */
  async isUsable(code: string): Promise<boolean> {
    const invite = await this.find(code);
    return invite !== undefined && (await this.uses.countDocuments({ _id: invite._id }, { limit: 1 })) === 0;
  }

  /** The unexpired invitation whose code this is. */
  private async find(code: string): Promise<InviteDoc | undefined> {
    if (!INVITE_CODE.test(code)) return undefined;
    const [idHex, secret = ''] = code.split('.');
    const invite = await this.invites.findOne({ _id: ObjectId.createFromHexString(idHex as string) });
    if (!invite) return undefined;
    if (!timingSafeEqual(hashSecret(secret), Buffer.from(invite.secretHash, 'hex'))) return undefined;
    return invite.expiresAt.getTime() > Date.now() ? invite : undefined;
  }

  /**
   * Takes the invitation `code` stands for, once: its role and id, or undefined when the code is
   * wrong, expired or already used. A sign-up that fails after this gives it back (`giveBack`).
   */
  async use(code: string): Promise<{ id: ObjectId; role: Role } | undefined> {
    const invite = await this.find(code);
    if (!invite) return undefined;
    const id = invite._id;
    try {
      await this.uses.insertOne({ _id: id, at: new Date() });
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return undefined;
      throw err;
    }
    return { id, role: invite.role };
  }

  /** The invitation may be used again: the sign-up that took it made no account. */
  async giveBack(id: ObjectId) {
    await this.uses.deleteOne({ _id: id });
  }
}
