import { callOptionsWithin } from '@pdash/backend-shared/context';
import { failure, notFound, ServerError, Status } from '@pdash/backend-shared/errors';
import type { ServiceClient } from '@pdash/backend-shared/grpc-client';
import type { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { type CallContext, ClientError } from 'nice-grpc';

/** What orders needs of the customers or the suppliers service (both speak the same messages). */
type PartyClient = Pick<ServiceClient<CustomersServiceDefinition>, 'batchGet' | 'findByEmails'>;

type Kind = 'customer' | 'supplier';

/** Answers that mean "the other service cannot answer now", as opposed to a bug in the request. */
const UNREACHABLE = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED]);

/**
 * The customers and suppliers services as the orders service sees them: one BatchGet per
 * question, over the long-lived clients made at start-up (each call has the client's deadline).
 * When a service cannot be reached the call fails with UNAVAILABLE naming it. Each question takes
 * the context of the call it is asked for: its request id and trace go on with it.
 */
export class Parties {
  private readonly clients: Record<Kind, PartyClient>;

  constructor(customers: PartyClient, suppliers: PartyClient) {
    this.clients = { customer: customers, supplier: suppliers };
  }

  /**
   * FAILED_PRECONDITION naming the field when a record does not exist or is being deleted (the
   * forReference BatchGet leaves those out). Both checks run in parallel.
   */
  async ensureReferable(refs: { customerId?: string; supplierId?: string }, context: CallContext) {
    const check = async (kind: Kind, field: string, id: string | undefined) => {
      if (id !== undefined && (await this.batchGet(kind, [id], true, context)).length === 0)
        throw failure(Status.FAILED_PRECONDITION, 'REFERENCE_MISSING', `${field}: no ${kind} ${id}`);
    };
    await Promise.all([check('customer', 'customerId', refs.customerId), check('supplier', 'supplierId', refs.supplierId)]);
  }

  /** NOT_FOUND when the record does not exist. */
  async ensureExists(kind: Kind, id: string, context: CallContext) {
    if ((await this.batchGet(kind, [id], false, context)).length === 0) throw notFound(`no ${kind} ${id}`);
  }

  /** Names by id; an id with no supplier is left out. */
  async supplierNames(ids: string[], context: CallContext): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const suppliers = await this.batchGet('supplier', ids, false, context);
    return new Map(suppliers.map((supplier) => [supplier.id, supplier.name]));
  }

  /** Which of `ids` exist (with `forReference`: and are not being deleted), asked 100 at a time. */
  async existing(
    kind: Kind,
    ids: string[],
    forReference: boolean,
    context: CallContext,
    afterEach?: () => Promise<void>,
  ): Promise<Set<string>> {
    const found = new Set<string>();
    for (let at = 0; at < ids.length; at += 100) {
      for (const party of await this.batchGet(kind, ids.slice(at, at + 100), forReference, context)) found.add(party.id);
      await afterEach?.();
    }
    return found;
  }

  /** The ids of the records with each email, compared case-insensitively (several records may share one). */
  async idsByEmail(kind: Kind, emails: string[], context: CallContext): Promise<Map<string, string[]>> {
    const ids = new Map<string, string[]>();
    if (emails.length === 0) return ids;
    const { items } = await this.call(kind, () => this.clients[kind].findByEmails({ emails }, callOptionsWithin(context)));
    for (const party of items) {
      const email = party.email?.toLowerCase();
      if (email) ids.set(email, [...(ids.get(email) ?? []), party.id]);
    }
    return ids;
  }

  private async call<T>(kind: Kind, make: () => Promise<T>): Promise<T> {
    try {
      return await make();
    } catch (err) {
      if (err instanceof ClientError && UNREACHABLE.has(err.code))
        throw new ServerError(Status.UNAVAILABLE, `${kind}s service unavailable`);
      throw err;
    }
  }

  private async batchGet(kind: Kind, ids: string[], forReference: boolean, context: CallContext) {
    return (await this.call(kind, () => this.clients[kind].batchGet({ ids, forReference }, callOptionsWithin(context)))).items;
  }
}
