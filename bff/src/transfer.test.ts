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
  test('streams CSV of what the list filters match; a file exported and imported again gives the same file', async () => {
    const t = tag();
    // A phone starts with +, which a spreadsheet would take for a formula: written with an apostrophe (CSV injection).
    const csv = `name,email,phone,address\r\n"Round, ${t}",round.${t}@example.com,,"2 ""Quoted"" Rd"\r\nTrip ${t},,'+1 555 0199,\r\n`;
    await post('/api/suppliers/import', csv);
    const exported = await download(`/api/suppliers/export?q=${t}`);
    expect(exported).toMatchObject({ status: 200, type: 'text/csv; charset=utf-8' });
    expect(exported.text).toBe(csv);
    // Into an empty database (a second backend): the same bytes out.
    const other = await startStack();
    try {
      const otherEditor = await signedIn(other.bff.url, 'editor');
      const response = await fetch(`${other.bff.url}/api/suppliers/import`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${otherEditor.accessToken}` },
        body: exported.text,
      });
      expect(response.status).toBe(201);
      const again = await fetch(`${other.bff.url}/api/suppliers/export`, {
        headers: { authorization: `Bearer ${otherEditor.accessToken}` },
      });
      expect(await again.text()).toBe(exported.text);
    } finally {
      await other.stop();
    }
  });

  test('a cell a spreadsheet would run as a formula is exported with an apostrophe, and imported back as it was', async () => {
    const t = tag();
    await editor.client.suppliers.create.mutate({ name: `=HYPERLINK("http://evil.example";"${t}")` });
    const exported = await download(`/api/suppliers/export?q=${encodeURIComponent(t)}`);
    expect(exported.text).toBe(`name,email,phone,address\r\n"'=HYPERLINK(""http://evil.example"";""${t}"")",,,\r\n`);
    const other = await startStack();
    try {
      const otherEditor = await signedIn(other.bff.url, 'editor');
      await fetch(`${other.bff.url}/api/suppliers/import`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${otherEditor.accessToken}` },
        body: exported.text,
      });
      expect((await otherEditor.client.suppliers.list.query()).items.map((s) => s.name)).toEqual([
        `=HYPERLINK("http://evil.example";"${t}")`,
      ]);
    } finally {
      await other.stop();
    }
  });

  test('orders round trip too: customers, suppliers and orders exported, imported into an empty database, exported the same', async () => {
    const t = tag();
    const parties = `name,email,phone,address\r\nTrip party ${t},trip.${t}@example.com,,\r\n`;
    await post('/api/customers/import', parties);
    await post('/api/suppliers/import', parties);
    const orders = `customerEmail,supplierEmail,totalCents,createdAt\ntrip.${t}@example.com,trip.${t}@example.com,100,2025-03-01T10:00:00Z\ntrip.${t}@example.com,trip.${t}@example.com,200,2025-03-02T10:00:00Z\n`;
    expect((await post('/api/orders/import', orders, { token: admin })).status).toBe(201);
    const [customer] = (await editor.client.customers.list.query({ q: `Trip party ${t}` })).items;
    const first = {
      customers: (await download(`/api/customers/export?q=Trip party ${t}`)).text,
      suppliers: (await download(`/api/suppliers/export?q=Trip party ${t}`)).text,
      orders: (await download(`/api/orders/export?customerId=${customer!.id}`)).text,
    };
    expect(first.orders.split('\r\n')).toHaveLength(4);
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

  test("orders with their parties' emails and names, by customer; a filter that names nothing is a clean 4xx", async () => {
    const t = tag();
    const c = await editor.client.customers.create.mutate({ name: `Exported, ${t}`, email: `exp.${t}@example.com` });
    const s = await editor.client.suppliers.create.mutate({ name: `Seller ${t}`, email: `seller.${t}@example.com` });
    await post('/api/orders/import', `customerId,supplierId,totalCents,createdAt\n${c.id},${s.id},700,2025-01-02T03:04:05Z\n`, {
      token: admin,
    });
    const exported = await download(`/api/orders/export?customerId=${c.id}`);
    expect(exported.text).toBe(
      `customerEmail,customerName,supplierEmail,supplierName,totalCents,createdAt\r\nexp.${t}@example.com,"Exported, ${t}",seller.${t}@example.com,Seller ${t},700,2025-01-02T03:04:05.000Z\r\n`,
    );
    expect((await download(`/api/orders/export?customerId=${'0'.repeat(24)}`)).status).toBe(404);
    expect((await download('/api/orders/export?colour=red')).status).toBe(400);
    expect((await download('/api/customers/export', '')).status).toBe(401);
  });
});
