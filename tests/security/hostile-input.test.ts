import { randomBytes } from 'node:crypto';
import { signedIn } from '@pdash/testing/bff';
import { startTestStack, type TestStack } from '@pdash/testing/stack';
import fc from 'fast-check';
import { type Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Hostile input through Nginx, on every tRPC procedure and REST route: each gets a 4xx with a
 * message (never a 5xx), nothing is written (MongoDB counts and the records' versions are
 * checked), and the stack stays healthy. Ends with property-based fuzzing (fast-check, fixed seed).
 */
const MONGO_DB = `hostile_${randomBytes(5).toString('hex')}`;
let stack: TestStack;
let mongo: MongoClient;
let db: Db;
let token: string;
let customer: { id: string; version: number };
let supplier: { id: string; version: number };
let order: { id: string; version: number };

beforeAll(async () => {
  stack = await startTestStack({ MONGO_DB });
  mongo = new MongoClient(stack.mongoUrl);
  db = mongo.db(MONGO_DB);
  const session = await signedIn(stack.url);
  token = session.accessToken;
  customer = await session.client.customers.create.mutate({ name: 'Hostile customer' });
  supplier = await session.client.suppliers.create.mutate({ name: 'Hostile supplier' });
  order = await session.client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 100 });
}, 120_000);

afterAll(async () => {
  await mongo?.close();
  await stack?.stop();
});

/* What the database holds: counts per collection and the versions of the three records. */
async function snapshot() {
  const counts: Record<string, number> = {};
  for (const name of ['customers', 'suppliers', 'orders', 'users']) counts[name] = await db.collection(name).countDocuments({});
  const version = async (name: string, id: string) =>
    (await db.collection(name).findOne({ _id: new ObjectId(id) }))?.version as number | undefined;
  counts.customerVersion = (await version('customers', customer.id)) ?? -1;
  counts.supplierVersion = (await version('suppliers', supplier.id)) ?? -1;
  counts.orderVersion = (await version('orders', order.id)) ?? -1;
  return counts;
}

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: error bodies are checked field by field
  body: any;
  text: string;
}

async function send(method: string, path: string, options: { body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body,
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

/** A tRPC call with a raw JSON text as its input (queries: ?input=, mutations: the body). */
function trpc(path: string, kind: 'query' | 'mutation', inputJson: string | undefined) {
  if (kind === 'query') return send('GET', `/trpc/${path}${inputJson === undefined ? '' : `?input=${encodeURIComponent(inputJson)}`}`);
  return send('POST', `/trpc/${path}`, { body: inputJson ?? '' });
}

/** A refusal: a 4xx whose JSON body names the problem. */
function expectRefused(answer: Answer, what: string) {
  expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(answer.status, `${what}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
  expect(typeof answer.body?.error?.message, `${what}: ${answer.text.slice(0, 200)}`).toBe('string');
  expect(answer.body.error.message.length, what).toBeGreaterThan(0);
  expect(answer.text, what).not.toMatch(/\bat \w+ \(|node_modules|Mongo\w*Error/);
}

type FieldKind = 'id' | 'text' | 'secret' | 'number' | 'money' | 'version';
interface Procedure {
  path: string;
  kind: 'query' | 'mutation';
  /** A valid input (only ever sent with something made invalid). */
  valid: () => Record<string, unknown>;
  fields: Record<string, FieldKind>;
  required: string[];
}

const PARTY = (plural: string, one: () => { id: string }): Procedure[] => [
  {
    path: `${plural}.list`,
    kind: 'query',
    valid: () => ({ q: 'a', limit: 5 }),
    fields: { q: 'text', limit: 'number', cursor: 'text' },
    required: [],
  },
  { path: `${plural}.byId`, kind: 'query', valid: () => ({ id: one().id }), fields: { id: 'id' }, required: ['id'] },
  {
    path: `${plural}.create`,
    kind: 'mutation',
    valid: () => ({ name: 'n', email: 'a@b.co', phone: '123' }),
    fields: { name: 'text', email: 'text', phone: 'text' },
    required: ['name'],
  },
  {
    path: `${plural}.update`,
    kind: 'mutation',
    valid: () => ({ id: one().id, name: 'n', email: 'a@b.co', phone: '123', version: 1 }),
    fields: { id: 'id', name: 'text', email: 'text', phone: 'text', version: 'version' },
    required: ['id'],
  },
  { path: `${plural}.delete`, kind: 'mutation', valid: () => ({ id: one().id }), fields: { id: 'id' }, required: ['id'] },
];

const PROCEDURES: Procedure[] = [
  {
    path: 'auth.signup',
    kind: 'mutation',
    valid: () => ({ username: 'hostile_u', email: 'h@example.com', password: 'long enough password' }),
    fields: { username: 'text', email: 'text', password: 'secret' },
    required: ['username', 'email', 'password'],
  },
  {
    path: 'auth.login',
    kind: 'mutation',
    valid: () => ({ username: 'hostile_u', password: 'long enough password' }),
    fields: { username: 'text', password: 'secret' },
    required: ['username', 'password'],
  },
  ...PARTY('customers', () => customer),
  ...PARTY('suppliers', () => supplier),
  {
    path: 'orders.list',
    kind: 'query',
    valid: () => ({ customerId: customer.id, limit: 5 }),
    fields: { customerId: 'id', supplierId: 'id', limit: 'number', cursor: 'text' },
    required: [],
  },
  { path: 'orders.byId', kind: 'query', valid: () => ({ id: order.id }), fields: { id: 'id' }, required: ['id'] },
  {
    path: 'orders.create',
    kind: 'mutation',
    valid: () => ({ customerId: customer.id, supplierId: supplier.id, totalCents: 5 }),
    fields: { customerId: 'id', supplierId: 'id', totalCents: 'money' },
    required: ['customerId', 'supplierId', 'totalCents'],
  },
  {
    path: 'orders.update',
    kind: 'mutation',
    valid: () => ({ id: order.id, customerId: customer.id, supplierId: supplier.id, totalCents: 5, version: 1 }),
    fields: { id: 'id', customerId: 'id', supplierId: 'id', totalCents: 'money', version: 'version' },
    required: ['id'],
  },
  { path: 'orders.delete', kind: 'mutation', valid: () => ({ id: order.id }), fields: { id: 'id' }, required: ['id'] },
  { path: 'orders.stats', kind: 'query', valid: () => ({ days: 7 }), fields: { days: 'number' }, required: [] },
];

const OPERATORS: unknown[] = [{ $gt: '' }, { $ne: null }, { $regex: '.*' }, { $where: 'sleep(1000)' }];
const ODD_TEXT = [
  'a\u0000b',
  '\u0000',
  'x\ud800',
  '\udfffx',
  'evil\u202egnp.exe',
  'a\u2066b\u2069',
  'zero\u200bwidth',
  '\ufeffbom',
  'bell\u0007',
];
const LONG = 'x'.repeat(20_000);

/** The hostile values for one field kind: every one must be refused. */
function hostileValues(kind: FieldKind): [string, unknown][] {
  const common: [string, unknown][] = [
    ['null', null],
    ['an array', ['a']],
    ['an object', { a: 1 }],
    ['a boolean', true],
    ...OPERATORS.map((op): [string, unknown] => [`operator ${JSON.stringify(op)}`, op]),
  ];
  // A password may hold any character but control characters and lone surrogates.
  if (kind === 'secret')
    return [
      ...common,
      ['a number', 42],
      ['20k characters', LONG],
      ...['a\u0000b', 'x\ud800', '\udfffx', 'bell\u0007'].map((t): [string, unknown] => [`odd text ${JSON.stringify(t)}`, t]),
    ];
  if (kind === 'text')
    return [
      ...common,
      ['a number', 42],
      ['20k characters', LONG],
      ...ODD_TEXT.map((t): [string, unknown] => [`odd text ${JSON.stringify(t)}`, t]),
    ];
  if (kind === 'id')
    return [
      ...common,
      ['a number', 42],
      ['short hex', 'abc'],
      ['25 hex', 'a'.repeat(25)],
      ['non-hex', 'z'.repeat(24)],
      ['ObjectId() text', `ObjectId("${'a'.repeat(24)}")`],
      ['hex with NUL', `${'a'.repeat(23)}\u0000`],
      ['hex with zero-width', `\u200b${'a'.repeat(24)}`],
      ['20k characters', LONG],
      ['empty', ''],
    ];
  const numbers: [string, unknown][] = [
    ...common,
    ['a numeric string', '5'],
    ['"NaN"', 'NaN'],
    ['"Infinity"', 'Infinity'],
    ['fractional', 1.5],
    ['negative', -1],
    ['huge', 1e300],
    ['past 2^53', 2 ** 53 + 2],
  ];
  // Versions are int32 on the wire: a larger safe integer once answered 500.
  if (kind === 'version') return [...numbers, ['zero', 0], ['past 2^31', 2 ** 31], ['just below 2^53', 9007199254740990]];
  if (kind === 'money') return [...numbers, ['a cent too many', 1e12 + 1], ['-0.01', -0.01]];
  return [...numbers, ['zero', 0], ['a million', 1e6]];
}

describe('every tRPC procedure refuses hostile input', () => {
  it.each(PROCEDURES.map((p) => [p.path, p] as const))('%s', async (_, procedure) => {
    const before = await snapshot();
    const cases: [string, string | undefined][] = [
      ['wrong type: a string', JSON.stringify('text')],
      ['wrong type: a number', '42'],
      ['wrong type: an array', '[]'],
      ['an operator object', JSON.stringify({ $gt: '' })],
      ['an extra field', JSON.stringify({ ...procedure.valid(), extra: 1 })],
      ['a $-field', JSON.stringify({ ...procedure.valid(), $where: '1' })],
      ['a __proto__ field', `{"__proto__": {"admin": true}, ${JSON.stringify(procedure.valid()).slice(1)}`],
      ['deep nesting', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
      [
        'deep nesting in a field',
        JSON.stringify({ ...procedure.valid(), [Object.keys(procedure.fields)[0]!]: 0 }).replace(
          '0',
          `${'['.repeat(3_000)}${']'.repeat(3_000)}`,
        ),
      ],
      ['malformed JSON', '{"name": "x",'],
      ['a bare NaN', `{"${Object.keys(procedure.fields)[0]}": NaN}`],
      ['a number beyond float range', `{"${Object.keys(procedure.fields)[0]}": 1e400}`],
    ];
    if (procedure.required.length === 0) cases.push(['null', 'null']);
    for (const field of procedure.required) {
      const input = procedure.valid();
      delete input[field];
      cases.push([`missing ${field}`, JSON.stringify(input)]);
    }
    for (const [field, kind] of Object.entries(procedure.fields)) {
      for (const [label, value] of hostileValues(kind))
        cases.push([`${field}: ${label}`, JSON.stringify({ ...procedure.valid(), [field]: value })]);
    }
    for (const [label, input] of cases) {
      // A query's deeply nested input would not fit in a URL; it goes as a body to a mutation only.
      if (procedure.kind === 'query' && input !== undefined && input.length > 7_000) continue;
      expectRefused(await trpc(procedure.path, procedure.kind, input), `${procedure.path} ${label}`);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('orders.onChange refuses a bad lastEventId before streaming', async () => {
    for (const input of [{ lastEventId: { $gt: '' } }, { lastEventId: 'x'.repeat(5_000) }, { lastEventId: '1-1\u0000' }, { extra: 1 }]) {
      const answer = await send('GET', `/trpc/orders.onChange?input=${encodeURIComponent(JSON.stringify(input))}`, {
        headers: { accept: 'text/event-stream' },
      });
      // tRPC answers a subscription's bad input inside the event stream, with a 200: the error event must carry it.
      if (answer.status === 200) {
        expect(answer.text, JSON.stringify(input)).toMatch(/event: serialized-error[\s\S]*BAD_REQUEST/);
      } else {
        expectRefused(answer, `orders.onChange ${JSON.stringify(input)}`);
      }
    }
  });

  it('unknown procedures and methods are refused', async () => {
    expectRefused(await send('GET', '/trpc/customers.nope'), 'unknown procedure');
    expectRefused(await send('GET', '/trpc/customers.create?input=%7B%7D'), 'a mutation as a query');
    expectRefused(await send('POST', '/trpc/customers.list', { body: '{}' }), 'a query as a mutation');
    expectRefused(await send('GET', '/trpc/constructor'), 'a prototype name');
    expectRefused(await send('GET', '/trpc/__proto__.toString'), 'a prototype path');
  });
});

interface RestRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  label: string;
  path: () => string;
  procedure: string;
}

const REST: RestRoute[] = [
  { method: 'POST', label: 'POST /api/auth/signup', path: () => '/api/auth/signup', procedure: 'auth.signup' },
  { method: 'POST', label: 'POST /api/auth/login', path: () => '/api/auth/login', procedure: 'auth.login' },
  ...(['customers', 'suppliers'] as const).flatMap((plural): RestRoute[] => [
    { method: 'GET', label: `GET /api/${plural}`, path: () => `/api/${plural}`, procedure: `${plural}.list` },
    { method: 'POST', label: `POST /api/${plural}`, path: () => `/api/${plural}`, procedure: `${plural}.create` },
    {
      method: 'GET',
      label: `GET /api/${plural}/{id}`,
      path: () => `/api/${plural}/${(plural === 'customers' ? customer : supplier).id}`,
      procedure: `${plural}.byId`,
    },
    {
      method: 'PATCH',
      label: `PATCH /api/${plural}/{id}`,
      path: () => `/api/${plural}/${(plural === 'customers' ? customer : supplier).id}`,
      procedure: `${plural}.update`,
    },
    {
      method: 'DELETE',
      label: `DELETE /api/${plural}/{id}`,
      path: () => `/api/${plural}/${(plural === 'customers' ? customer : supplier).id}`,
      procedure: `${plural}.delete`,
    },
  ]),
  { method: 'GET', label: 'GET /api/orders', path: () => '/api/orders', procedure: 'orders.list' },
  { method: 'POST', label: 'POST /api/orders', path: () => '/api/orders', procedure: 'orders.create' },
  { method: 'GET', label: 'GET /api/orders/stats', path: () => '/api/orders/stats', procedure: 'orders.stats' },
  { method: 'GET', label: `GET /api/orders/{id}`, path: () => `/api/orders/${order.id}`, procedure: 'orders.byId' },
  { method: 'PATCH', label: `PATCH /api/orders/{id}`, path: () => `/api/orders/${order.id}`, procedure: 'orders.update' },
  { method: 'DELETE', label: `DELETE /api/orders/{id}`, path: () => `/api/orders/${order.id}`, procedure: 'orders.delete' },
];

describe('every REST route refuses hostile input', () => {
  it.each(REST.map((r) => [r.label, r] as const))('%s', async (_, route) => {
    const before = await snapshot();
    const procedure = PROCEDURES.find((p) => p.path === route.procedure)!;
    const hasId = /[0-9a-f]{24}$/.test(route.path());
    const base = route.path();
    const cases: [string, Promise<Answer>][] = [];
    if (hasId) {
      const collection = base.replace(/\/[0-9a-f]{24}$/, '');
      for (const bad of [
        'zz',
        'a'.repeat(25),
        '%7B%22%24gt%22%3A%22%22%7D',
        '%00',
        '%E2%80%AEabc',
        `${'a'.repeat(24)}%00`,
        '%ZZ',
        'x'.repeat(5_000),
      ]) {
        cases.push([
          `id ${bad.slice(0, 30)}`,
          send(route.method, `${collection}/${bad}`, route.method === 'PATCH' ? { body: '{"name":"n"}' } : {}),
        ]);
      }
    }
    if (route.method === 'GET' || route.method === 'DELETE') {
      for (const query of [
        'limit=-1',
        'limit=1.5',
        'limit=NaN',
        'limit=1e3',
        'q[$gt]=',
        'extra=1',
        'days=0',
        'customerId[$ne]=x',
        `q=${'x'.repeat(5_000)}`,
        'q=a%00b',
        'cursor=%E2%80%AE',
      ]) {
        // Only routes that take the parameter (or none): an unknown one is refused as unknown.
        cases.push([`?${query.slice(0, 30)}`, send(route.method, `${base}?${query}`)]);
      }
      cases.push(['a 100 KB query string', send(route.method, `${base}?q=${'x'.repeat(100 * 1024)}`)]);
    } else {
      const valid = procedure.valid();
      delete valid.id;
      const bodies: [string, string][] = [
        ['malformed JSON', '{"name": '],
        ['a JSON array', '[]'],
        ['a JSON string', '"x"'],
        ['JSON null', 'null'],
        ['deep nesting', `${'['.repeat(10_000)}${']'.repeat(10_000)}`],
        ['deep nesting in a field', `{"name": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
        ['an extra field', JSON.stringify({ ...valid, extra: 1 })],
        ['an operator in every field', JSON.stringify(Object.fromEntries(Object.keys(procedure.fields).map((f) => [f, { $gt: '' }])))],
        ['a 2 MiB body', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) })],
      ];
      for (const field of procedure.required.filter((f) => f !== 'id')) {
        const input = { ...valid };
        delete input[field];
        bodies.push([`missing ${field}`, JSON.stringify(input)]);
      }
      for (const [field, kind] of Object.entries(procedure.fields).filter(([f]) => f !== 'id')) {
        for (const [label, value] of hostileValues(kind)) bodies.push([`${field}: ${label}`, JSON.stringify({ ...valid, [field]: value })]);
      }
      for (const [label, body] of bodies) cases.push([label, send(route.method, base, { body })]);
      cases.push(['text/plain', send(route.method, base, { body: '{}', headers: { 'content-type': 'text/plain' } })]);
    }
    for (const [label, answer] of cases) {
      const got = await answer;
      // A GET with a parameter it does not take is refused too; one it takes with a fine value is not hostile.
      expectRefused(got, `${route.method} ${base} ${label}`);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('unknown routes and methods answer 404/405 with a message', async () => {
    expectRefused(await send('GET', '/api/nothing'), 'unknown route');
    expectRefused(await send('PUT', '/api/customers'), 'PUT');
    // Nginx resolves dot segments (decoded ones too) before routing: no file outside is ever served.
    for (const path of [
      '/api/customers/..%2F..%2F..%2Fetc%2Fpasswd',
      '/api/..%2f..%2f..%2fetc/passwd',
      '/assets/..%2F..%2F..%2Fetc%2Fpasswd',
    ]) {
      expect(await send('GET', path).then((a) => a.text)).not.toMatch(/root:.*:0:0:/);
    }
  });
});

describe('fuzzing the procedures (fast-check, fixed seed)', () => {
  it('never answers 5xx, and writes only what it acknowledged', async () => {
    const before = await snapshot();
    const mutations = PROCEDURES.filter((p) => p.kind === 'mutation' && !p.path.startsWith('auth.'));
    const queries = PROCEDURES.filter((p) => p.kind === 'query');
    let created = { customers: 0, suppliers: 0, orders: 0 };
    let updated = { customers: 0, suppliers: 0, orders: 0 };
    let deleted = { customers: 0, suppliers: 0, orders: 0 };
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(...OPERATORS),
      fc.stringMatching(/^[0-9a-f]{24}$/),
      fc.constantFrom('', 'a'.repeat(300), customer.id, supplier.id, order.id, '\u0000', '\ud800', '\u202e'),
      fc.jsonValue({ maxDepth: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...mutations, ...queries),
        fc.dictionary(
          fc.constantFrom(
            'id',
            'name',
            'email',
            'phone',
            'version',
            'q',
            'limit',
            'cursor',
            'customerId',
            'supplierId',
            'totalCents',
            'days',
            'extra',
          ),
          value,
          { maxKeys: 4 },
        ),
        fc.boolean(),
        async (procedure, fields, overValid) => {
          // Half the time the fuzzed fields go over a valid input (so that one bad field is what is tested).
          const input = overValid ? { ...procedure.valid(), ...fields } : fields;
          const answer = await trpc(procedure.path, procedure.kind, JSON.stringify(input));
          if (answer.status >= 500)
            throw new Error(`${procedure.path} ${JSON.stringify(input)} → ${answer.status} ${answer.text.slice(0, 200)}`);
          if (answer.status < 300 && procedure.kind === 'mutation') {
            const [collection, name] = procedure.path.split('.') as ['customers' | 'suppliers' | 'orders', string];
            if (name === 'create') created = { ...created, [collection]: created[collection] + 1 };
            if (name === 'update') updated = { ...updated, [collection]: updated[collection] + 1 };
            if (name === 'delete') deleted = { ...deleted, [collection]: deleted[collection] + 1 };
          } else if (answer.status >= 400) {
            expect(typeof answer.body?.error?.message).toBe('string');
          }
        },
      ),
      { seed: 42, numRuns: 200 },
    );
    const after = await snapshot();
    // Any write the fuzzer made was acknowledged; invalid input wrote nothing.
    expect(after.users).toBe(before.users);
    for (const name of ['customers', 'suppliers', 'orders'] as const)
      expect(after[name], name).toBe(before[name]! + created[name] - deleted[name]);
    expect(after.customerVersion).toBe(deleted.customers ? -1 : before.customerVersion! + updated.customers);
    expect(after.supplierVersion).toBe(deleted.suppliers ? -1 : before.supplierVersion! + updated.suppliers);
  });
});

describe('after all that', () => {
  it('the stack is healthy and nothing crashed', async () => {
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
    const session = await signedIn(stack.url);
    expect((await session.client.customers.create.mutate({ name: 'Still fine' })).version).toBe(1);
    expect(stack.logs.filter((line) => /exited \(/.test(line))).toEqual([]);
  });
});
