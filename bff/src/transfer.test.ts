import { adminToken, randomAddress, signedIn, startStack } from '@pdash/testing/bff';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/*
 * CSV import and export (API.md "Import and export") through real servers: the services on
 * FerretDB and Redis and a BFF in front. The crash of a service mid-import is
 * tests/stack/import-crash.test.ts; the protocol's steps are backend/shared/imports.test.ts.
 */

let stack: Awaited<ReturnType<typeof startStack>>;
let url: string;
let editor: Awaited<ReturnType<typeof signedIn>>;
let admin: string;

beforeAll(async () => {
  stack = await startStack();
  url = stack.bff.url;
  editor = await signedIn(url, 'editor');
  admin = await adminToken(url);
});
afterAll(() => stack?.stop());

async function post(path: string, csv: string, options: { token?: string; key?: string; type?: string } = {}) {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': options.type ?? 'text/csv',
      authorization: `Bearer ${options.token ?? editor.accessToken}`,
      'x-real-ip': randomAddress(),
      ...(options.key ? { 'idempotency-key': options.key } : {}),
    },
    body: csv,
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  const body: any = await response.json();
  return { status: response.status, body };
}

async function download(path: string, token = editor.accessToken) {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

const tag = () => Math.random().toString(36).slice(2, 8);

describe('import', () => {
  test('customers with quotes, commas, line breaks and a BOM: all created, listed in the file order, one history entry', async () => {
    const t = tag();
    const csv = `\ufeffname,email,phone,address\r\n"Smith, ${t}",smith.${t}@example.com,+1 555 0100,"1 Main St, Springfield"\r\n"The ""Best"" ${t}",,,\r\nPlain ${t},,,\r\n`;
    const answer = await post('/api/customers/import', csv, { key: `k-${t}` });
    expect(answer).toMatchObject({ status: 201, body: { created: 3, importId: expect.stringMatching(/^[0-9a-f]{24}$/) } });
    const list = await editor.client.customers.list.query({ q: t });
    expect(list.items.map((c) => c.name)).toEqual([`Smith, ${t}`, `The "Best" ${t}`, `Plain ${t}`]);
    expect(list.items[0]).toMatchObject({ email: `smith.${t}@example.com`, address: '1 Main St, Springfield', version: 1 });
    expect(list.items[1]).not.toHaveProperty('email');
    const history = await editor.client.audit.list.query({ entity: 'customer', entityId: answer.body.importId });
    expect(history.items).toMatchObject([{ action: 'imported', actor: { id: editor.user.id }, changes: { created: { to: 3 } } }]);
  });

  test('all or nothing: every bad row is reported (row, field, message) and nothing is written', async () => {
    const t = tag();
    const csv = `name,email\nGood ${t},\n,nobody@example.com\nAlso good ${t},not-an-email\n`;
    const answer = await post('/api/suppliers/import', csv);
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({
      code: 'UNPROCESSABLE_CONTENT',
      rows: [
        { row: 2, field: 'name', message: 'must not be empty' },
        { row: 3, field: 'email', message: 'must be an email address' },
      ],
    });
    expect((await editor.client.suppliers.list.query({ q: t })).total).toBe(0);
    const header = await post('/api/suppliers/import', 'name,colour\nX,red\n');
    expect(header.body.error.rows).toEqual([{ row: 0, field: 'colour', message: expect.stringMatching(/^is not a column of suppliers/) }]);
    // A quoted line break is one field (refused by the rules, as in a create), not a new row.
    const broken = await post('/api/suppliers/import', 'name,address\nX,"1 Main St\nSpringfield"\n');
    expect(broken.body.error.rows).toEqual([{ row: 1, field: 'address', message: 'must not contain control characters' }]);
    const unclosed = await post('/api/suppliers/import', 'name\n"open\n');
    expect(unclosed.body.error.rows).toEqual([{ row: 0, field: 'file', message: expect.stringMatching(/never closed/) }]);
  });

  test('a dry run checks and writes nothing; a retry with the same Idempotency-Key creates nothing twice', async () => {
    const t = tag();
    const csv = `name\nOnce ${t}\nTwice ${t}\n`;
    expect(await post('/api/customers/import?dryRun=true', csv)).toMatchObject({
      status: 200,
      body: { created: 0, rows: 2, dryRun: true },
    });
    expect((await editor.client.customers.list.query({ q: t })).total).toBe(0);
    const first = await post('/api/customers/import', csv, { key: `same-${t}` });
    const again = await post('/api/customers/import', csv, { key: `same-${t}` });
    expect(again).toEqual(first);
    expect((await editor.client.customers.list.query({ q: t })).total).toBe(2);
    const other = await post('/api/customers/import', `name\nOther ${t}\n`, { key: `same-${t}` });
    expect(other).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^Idempotency-Key: /) } } });
  });

  test('viewers may not import, editors may not set createdAt, admins may; the body must be CSV', async () => {
    const viewer = await signedIn(url, 'viewer');
    expect((await post('/api/customers/import', 'name\nX\n', { token: viewer.accessToken })).body.error).toMatchObject({
      code: 'FORBIDDEN',
      message: 'role: editor needed (you are viewer)',
    });
    const c = await editor.client.customers.create.mutate({ name: `Past buyer ${tag()}` });
    const s = await editor.client.suppliers.create.mutate({ name: `Past seller ${tag()}` });
    const past = `customerId,supplierId,totalCents,createdAt\n${c.id},${s.id},500,2024-05-01T12:00:00Z\n`;
    expect((await post('/api/orders/import', past)).body.error.message).toBe('role: admin needed to import createdAt (you are editor)');
    expect(await post('/api/orders/import', past, { token: admin })).toMatchObject({ status: 201, body: { created: 1 } });
    const [order] = (await editor.client.orders.list.query({ customerId: c.id })).items;
    expect(order).toMatchObject({ totalCents: 500, createdAt: '2024-05-01T12:00:00.000Z', customerName: c.name });
    expect((await post('/api/customers/import', '{"name":"x"}', { type: 'application/json' })).status).toBe(415);
    expect(
      (await fetch(`${url}/api/customers/import`, { method: 'POST', body: 'name\nX\n', headers: { 'content-type': 'text/csv' } })).status,
    ).toBe(401);
  });

  test('orders name parties by id or by email; one that names no party refuses the whole file', async () => {
    const t = tag();
    // Emails are kept as typed and matched case-insensitively.
    const c = await editor.client.customers.create.mutate({ name: `By email ${t}`, email: `Buyer.${t}@Example.com` });
    const s = await editor.client.suppliers.create.mutate({ name: `By id ${t}` });
    const good = `customerEmail,supplierId,totalCents\nBUYER.${t}@example.com,${s.id},100\nbuyer.${t}@example.com,${s.id},200\n`;
    expect(await post('/api/orders/import', good)).toMatchObject({ status: 201, body: { created: 2 } });
    expect((await editor.client.orders.list.query({ supplierId: s.id })).items.map((o) => o.totalCents)).toEqual([100, 200]);
    const bad = `customerEmail,supplierId,totalCents\nbuyer.${t}@example.com,${s.id},300\nnobody.${t}@example.com,${s.id},400\nbuyer.${t}@example.com,${'0'.repeat(24)},500\n`;
    const refused = await post('/api/orders/import', bad);
    expect(refused.status).toBe(422);
    expect(refused.body.error.rows).toEqual([
      { row: 2, field: 'customerEmail', message: `no customer has nobody.${t}@example.com` },
      { row: 3, field: 'supplierId', message: `no supplier ${'0'.repeat(24)}` },
    ]);
    expect((await editor.client.orders.list.query({ customerId: c.id })).total).toBe(2);
  });
});

describe('export', () => {
  test('streams CSV of what the list filters match, with ids and createdAt; the file imported again gives the same file', async () => {
    const t = tag();
    // A phone starts with +, which a spreadsheet would take for a formula: written with an apostrophe (CSV injection).
    const csv = `name,email,phone,address\r\n"Round, ${t}",round.${t}@example.com,,"2 ""Quoted"" Rd"\r\nTrip ${t},,'+1 555 0199,\r\n`;
    await post('/api/suppliers/import', csv);
    const listed = (await editor.client.suppliers.list.query({ q: t })).items;
    const exported = await download(`/api/suppliers/export?q=${t}`);
    expect(exported).toMatchObject({ status: 200, type: 'text/csv; charset=utf-8' });
    expect(exported.text).toBe(
      `id,name,email,phone,address,createdAt\r\n${listed[0]!.id},"Round, ${t}",round.${t}@example.com,,"2 ""Quoted"" Rd",${listed[0]!.createdAt}\r\n` +
        `${listed[1]!.id},Trip ${t},,'+1 555 0199,,${listed[1]!.createdAt}\r\n`,
    );
    // Not twice into the same database: its ids are taken (and a deleted record's id stays used).
    const again = await post('/api/suppliers/import', exported.text, { token: admin });
    expect(again).toMatchObject({ status: 422, body: { error: { code: 'UNPROCESSABLE_CONTENT' } } });
    expect(again.body.error.rows).toEqual([
      { row: 1, field: 'id', message: `a supplier with id ${listed[0]!.id} exists or existed; leave id empty for a new one` },
      { row: 2, field: 'id', message: `a supplier with id ${listed[1]!.id} exists or existed; leave id empty for a new one` },
    ]);
    await editor.client.suppliers.delete.mutate({ id: listed[1]!.id });
    const deleted = await post('/api/suppliers/import', `id,name\n${listed[1]!.id},Back ${t}\n`);
    expect(deleted.body.error.rows).toEqual([
      { row: 1, field: 'id', message: `a supplier with id ${listed[1]!.id} exists or existed; leave id empty for a new one` },
    ]);
    // createdAt is an admin's to set, as for orders.
    expect((await post('/api/suppliers/import', exported.text)).body.error.message).toBe(
      'role: admin needed to import createdAt (you are editor)',
    );
    // Into an empty database (a second backend): the same bytes out.
    const other = await startStack();
    try {
      const otherAdmin = await adminToken(other.bff.url);
      const response = await fetch(`${other.bff.url}/api/suppliers/import`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${otherAdmin}` },
        body: exported.text,
      });
      expect(response.status).toBe(201);
      const back = await fetch(`${other.bff.url}/api/suppliers/export`, { headers: { authorization: `Bearer ${otherAdmin}` } });
      expect(await back.text()).toBe(exported.text);
    } finally {
      await other.stop();
    }
  });

  test('ids kept from a file: a retry with the same key answers the same; two imports giving the same ids at once, one wins', async () => {
    const t = tag();
    const id = () => Array.from({ length: 24 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    const file = (prefix: string) => `id,name\n${[0, 1, 2].map((i) => `${ids[i]},${prefix} ${i} ${t}`).join('\n')}\n`;
    const ids = [id(), id(), id()];
    const first = await post('/api/customers/import', file('Kept'), { key: `kept-${t}` });
    expect(first).toMatchObject({ status: 201, body: { created: 3 } });
    expect(await post('/api/customers/import', file('Kept'), { key: `kept-${t}` })).toMatchObject({
      status: 201,
      body: { created: 3, importId: first.body.importId },
    });
    expect((await editor.client.customers.byId.query({ id: ids[0]! })).name).toBe(`Kept 0 ${t}`);

    ids.splice(0, 3, id(), id(), id());
    const racing = await Promise.all(['One', 'Two'].map((who) => post('/api/customers/import', file(who), { key: `race-${who}-${t}` })));
    expect(racing.map((answer) => answer.status).sort()).toEqual([201, 422]);
    const loser = racing.find((answer) => answer.status === 422)!;
    expect(loser.body.error.rows.map((row: { field: string }) => row.field)).toEqual(['id', 'id', 'id']);
    const winner = racing[0]!.status === 201 ? 'One' : 'Two';
    for (const [i, kept] of ids.entries())
      expect((await editor.client.customers.byId.query({ id: kept })).name).toBe(`${winner} ${i} ${t}`);
  });

  test('a cell a spreadsheet would run as a formula is exported with an apostrophe, and imported back as it was', async () => {
    const t = tag();
    await editor.client.suppliers.create.mutate({ name: `=HYPERLINK("http://evil.example";"${t}")` });
    const exported = await download(`/api/suppliers/export?q=${encodeURIComponent(t)}`);
    expect(exported.text).toMatch(
      /^id,name,email,phone,address,createdAt\r\n[0-9a-f]{24},"'=HYPERLINK\(""http:\/\/evil\.example"";""\w+""\)",,,,[0-9T:.-]+Z\r\n$/,
    );
    const other = await startStack();
    try {
      const otherAdmin = await signedIn(other.bff.url, 'admin');
      await fetch(`${other.bff.url}/api/suppliers/import`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${otherAdmin.accessToken}` },
        body: exported.text,
      });
      expect((await otherAdmin.client.suppliers.list.query()).items.map((s) => s.name)).toEqual([
        `=HYPERLINK("http://evil.example";"${t}")`,
      ]);
    } finally {
      await other.stop();
    }
  });

  test("orders round trip too, whatever the parties' emails: customers, suppliers and orders exported, imported into an empty database, exported the same", async () => {
    const t = tag();
    // Parties an email cannot tell apart: none at all, or one that two customers share.
    const plain = await editor.client.customers.create.mutate({ name: `No email ${t}` });
    const shared = `shared.${t}@example.com`;
    const one = await editor.client.customers.create.mutate({ name: `One ${t}`, email: shared });
    const two = await editor.client.customers.create.mutate({ name: `Two ${t}`, email: shared });
    const seller = await editor.client.suppliers.create.mutate({ name: `Seller ${t}` });
    const orders = [plain, one, two, two].map((c, i) => `${c.id},${seller.id},${100 + i},2025-03-0${i + 1}T10:00:00Z`);
    expect(
      (await post('/api/orders/import', `customerId,supplierId,totalCents,createdAt\n${orders.join('\n')}\n`, { token: admin })).status,
    ).toBe(201);
    const first = {
      customers: (await download(`/api/customers/export?q=${t}`)).text,
      suppliers: (await download(`/api/suppliers/export?q=${t}`)).text,
      orders: (await download(`/api/orders/export?supplierId=${seller.id}`)).text,
    };
    expect(first.customers.split('\r\n')).toHaveLength(5);
    expect(first.orders.split('\r\n')).toHaveLength(6);
    const other = await startStack();
    try {
      const otherAdmin = await adminToken(other.bff.url);
      const send = (kind: string, body: string) =>
        fetch(`${other.bff.url}/api/${kind}/import`, {
          method: 'POST',
          headers: { 'content-type': 'text/csv', authorization: `Bearer ${otherAdmin}` },
          body,
        });
      for (const kind of ['customers', 'suppliers', 'orders'] as const) expect((await send(kind, first[kind])).status, kind).toBe(201);
      const get = async (path: string) =>
        (await fetch(`${other.bff.url}${path}`, { headers: { authorization: `Bearer ${otherAdmin}` } })).text();
      expect(await get('/api/customers/export')).toBe(first.customers);
      expect(await get('/api/suppliers/export')).toBe(first.suppliers);
      expect(await get('/api/orders/export')).toBe(first.orders);
    } finally {
      await other.stop();
    }
  });

  test('an order row may name a party by id and email both: the id names it, and the email must be its', async () => {
    const t = tag();
    const c = await editor.client.customers.create.mutate({ name: `Both ${t}`, email: `both.${t}@example.com` });
    const s = await editor.client.suppliers.create.mutate({ name: `Seller ${t}`, email: `sells.${t}@example.com` });
    const header = 'customerId,customerEmail,supplierId,supplierEmail,totalCents';
    expect(await post('/api/orders/import', `${header}\n${c.id},BOTH.${t}@example.com,${s.id},,5\n`)).toMatchObject({
      status: 201,
      body: { created: 1 },
    });
    const refused = await post('/api/orders/import', `${header}\n${c.id},sells.${t}@example.com,${s.id},sells.${t}@example.com,5\n`);
    expect(refused.body.error.rows).toEqual([{ row: 1, field: 'customerEmail', message: `is not the email of customer ${c.id}` }]);
  });

  test("orders with their parties' ids, emails and names, by customer; a filter that names nothing is a clean 4xx", async () => {
    const t = tag();
    const c = await editor.client.customers.create.mutate({ name: `Exported, ${t}`, email: `exp.${t}@example.com` });
    const s = await editor.client.suppliers.create.mutate({ name: `Seller ${t}`, email: `seller.${t}@example.com` });
    await post('/api/orders/import', `customerId,supplierId,totalCents,createdAt\n${c.id},${s.id},700,2025-01-02T03:04:05Z\n`, {
      token: admin,
    });
    const exported = await download(`/api/orders/export?customerId=${c.id}`);
    expect(exported.text).toBe(
      'customerId,customerEmail,customerName,supplierId,supplierEmail,supplierName,totalCents,createdAt\r\n' +
        `${c.id},exp.${t}@example.com,"Exported, ${t}",${s.id},seller.${t}@example.com,Seller ${t},700,2025-01-02T03:04:05.000Z\r\n`,
    );
    expect((await download(`/api/orders/export?customerId=${'0'.repeat(24)}`)).status).toBe(404);
    expect((await download('/api/orders/export?colour=red')).status).toBe(400);
    expect((await download('/api/customers/export', '')).status).toBe(401);
  });
});
