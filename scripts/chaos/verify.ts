/** The checks after a phase: every acknowledged write in MongoDB and through the API, exactly once. */
import { type MongoClient, ObjectId } from 'mongodb';
import type { Api } from './api.js';
import type { Ledger } from './ledger.js';
import type { Recorder } from './recorder.js';
import { MONGO_DB } from './types.js';

export async function verify(api: Api, ledger: Ledger, mongo: MongoClient, recorder: Recorder, apiSample = Number.POSITIVE_INFINITY) {
  const db = mongo.db(MONGO_DB);
  const customers = [...ledger.customers.values()].map((e) => ({ ...e, acked: e.version }));
  const orders = [...ledger.orders.values()];
  const phase = recorder.phase;

  // In MongoDB: each acknowledged record, at or past its acknowledged version; each create at most once.
  const customerDocs = new Map<string, { name: string; phone?: string; version: number }>();
  for (const chunk of chunks(customers, 500)) {
    const docs = await db
      .collection('customers')
      .find({ _id: { $in: chunk.map((e) => new ObjectId(e.id)) } })
      .toArray();
    for (const doc of docs) customerDocs.set(doc._id.toHexString(), doc as never);
  }
  for (const entry of customers) {
    const doc = customerDocs.get(entry.id);
    const lost =
      !doc ||
      doc.version < entry.acked ||
      (doc.version === entry.acked && doc.name !== entry.name) ||
      (doc.version === entry.acked && entry.phone !== undefined && doc.phone !== entry.phone);
    if (lost) {
      phase.lostWrites++;
      recorder.problem(`customer ${entry.id} in MongoDB: ${JSON.stringify(doc)}, acknowledged v${entry.acked} ${entry.phone ?? ''}`);
    }
  }
  const names = new Map<string, number>();
  for (const chunk of chunks([...ledger.attemptedNames], 500)) {
    const docs = await db
      .collection('customers')
      .find({ name: { $in: chunk } }, { projection: { name: 1 } })
      .toArray();
    for (const doc of docs) names.set(doc.name, (names.get(doc.name) ?? 0) + 1);
  }
  for (const [name, count] of names) {
    if (count > 1) {
      phase.duplicates += count - 1;
      recorder.problem(`customer name ${name} stored ${count} times`);
    }
  }
  const totals = new Map<number, { count: number; pending: boolean }>();
  for (const chunk of chunks([...ledger.attemptedTotals], 500)) {
    const docs = await db
      .collection('orders')
      .find({ totalCents: { $in: chunk } }, { projection: { totalCents: 1, pendingSince: 1 } })
      .toArray();
    for (const doc of docs) {
      const seen = totals.get(doc.totalCents) ?? { count: 0, pending: false };
      totals.set(doc.totalCents, { count: seen.count + 1, pending: seen.pending || doc.pendingSince !== undefined });
    }
  }
  for (const [total, { count }] of totals) {
    if (count > 1) {
      phase.duplicates += count - 1;
      recorder.problem(`order totalCents ${total} stored ${count} times`);
    }
  }
  for (const entry of orders) {
    const stored = totals.get(entry.totalCents);
    if (!stored || stored.pending) {
      phase.lostWrites++;
      recorder.problem(`order ${entry.id} (${entry.totalCents}) in MongoDB: ${stored ? 'still pending' : 'missing'}`);
    }
  }

  // Through the API (cache included): the same; after a phase a random sample, at the end all of them.
  await pool(sample(customers, apiSample), 8, async (entry) => {
    const answer = await api.call('GET', `/api/customers/${entry.id}`);
    if (answer.status !== 200 || answer.body.version < entry.acked || answer.body.name !== entry.name) {
      phase.staleReads++;
      recorder.problem(`verify GET customer ${entry.id}: ${answer.status} v${answer.body?.version}, acknowledged v${entry.acked}`);
    }
  });
  await pool(sample(orders, apiSample), 8, async (entry) => {
    const answer = await api.call('GET', `/api/orders/${entry.id}`);
    if (answer.status !== 200 || answer.body.totalCents !== entry.totalCents) {
      phase.lostWrites++;
      recorder.problem(`verify GET order ${entry.id}: ${answer.status}`);
    }
  });
}

function sample<T>(items: T[], size: number): T[] {
  if (items.length <= size) return items;
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, size);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function pool<T>(items: T[], width: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}
