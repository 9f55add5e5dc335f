import { setTimeout as sleep } from 'node:timers/promises';
import { adminToken, trpcClient } from '@pdash/testing/bff';
import { startTestStack, type TestStack } from '@pdash/testing/stack';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * An import cut off by a crash (API.md "Import and export"): the customers service is SIGKILLed
 * while it writes a large import through Nginx. None of the import's rows is visible meanwhile;
 * after the restart the retry with the same Idempotency-Key completes it, exactly once.
 */
const ROWS = 20_000;

let stack: TestStack;
let mongo: MongoClient;

beforeAll(async () => {
  stack = await startTestStack();
  mongo = new MongoClient(stack.mongoUrl);
}, 120_000);
afterAll(async () => {
  await mongo?.close();
  await stack?.stop();
});

describe('an import cut off by a crash', () => {
  it('leaves none of its rows visible, and is completed by its retry with the same key', { timeout: 180_000 }, async () => {
    const token = await adminToken(stack.url);
    const client = trpcClient(stack.url, { token });
    const csv = `name,email\n${Array.from({ length: ROWS }, (_, i) => `Crash customer ${i + 1},crash.${i + 1}@example.com`).join('\n')}\n`;
    const send = () =>
      fetch(`${stack.url}/api/customers/import`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}`, 'idempotency-key': 'crash-import-1' },
        body: csv,
      }).then(
        (r) => r.status,
        () => 'network',
      );
    const db = mongo.db(stack.dbName);
    const customers = db.collection('customers');
    const staged = async () => {
      const names = (await db.listCollections({}, { nameOnly: true }).toArray())
        .map((c) => c.name)
        .filter((n) => n.startsWith('customers_staging_'));
      const counts = await Promise.all(names.map((name) => db.collection(name).countDocuments({})));
      return counts.reduce((sum, n) => sum + n, 0);
    };
    const first = send();
    // Kill the service once the import has written some of its rows (but not all).
    for (let waited = 0; (await staged()) === 0; waited += 20) {
      if (waited > 60_000) throw new Error('the import wrote nothing');
      await sleep(20);
    }
    await stack.supervisor.stop('customers', 'SIGKILL');
    expect(await first).not.toBe(201);
    const written = await staged();
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(ROWS);
    // Written, none visible.
    expect(await customers.countDocuments({})).toBe(0);

    await stack.supervisor.resume('customers');
    expect((await client.customers.list.query({ q: 'Crash customer' })).total).toBe(0);
    // The retry: told to wait while the dead run may still look alive, then it imports, once.
    let status: number | string = 0;
    for (let attempt = 0; attempt < 60 && status !== 201; attempt++) {
      status = await send();
      if (status !== 201) await sleep(1_000);
    }
    expect(status).toBe(201);
    expect(await customers.countDocuments({})).toBe(ROWS);
    expect(await staged()).toBe(0);
    expect(await send()).toBe(201);
    expect(await customers.countDocuments({})).toBe(ROWS);
  });
});
