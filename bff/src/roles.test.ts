import { setTimeout as sleep } from 'node:timers/promises';
import { startBackend, TEST_ADMIN } from '@pdash/testing/backend';
import {
  adminToken,
  inviteCode,
  missingId,
  newUser,
  rest,
  signedIn,
  startStack,
  startTestBff,
  trpcClient,
  trpcError,
} from '@pdash/testing/bff';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VERIFIED_TTL_MS } from './auth-cache.js';

/*
 * Roles, invitations and user admin (API.md "Users, roles and sign-up") through real servers:
 * the backend's services on FerretDB and Redis, a BFF in front, over tRPC and REST alike.
 * This stack runs the auth service with SIGNUP_MODE unset: its default, invite.
 */

let stack: Awaited<ReturnType<typeof startStack>>;
let url: string;
let admin: ReturnType<typeof trpcClient>;

beforeAll(async () => {
  stack = await startStack({ SIGNUP_MODE: undefined });
  url = stack.bff.url;
  admin = trpcClient(url, { token: await adminToken(url) });
});
afterAll(() => stack?.stop());

/** Waits until `check` passes (role and account changes reach a replica within VERIFIED_TTL_MS). */
async function eventually(check: () => Promise<void>, withinMs = VERIFIED_TTL_MS + 2_000) {
  const started = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - started;
    } catch (err) {
      if (Date.now() - started > withinMs) throw err;
      await sleep(100);
    }
  }
}

describe('roles', () => {
  test('a viewer reads but may not change anything: 403 naming the role needed, over tRPC and REST', async () => {
    const viewer = await signedIn(url, 'viewer');
    expect(viewer.user.role).toBe('viewer');
    await expect(viewer.client.customers.list.query()).resolves.toHaveProperty('items');
    await expect(viewer.client.orders.stats.query()).resolves.toHaveProperty('count');
    await trpcError(viewer.client.customers.create.mutate({ name: 'Nope' }), 'FORBIDDEN', /^role: editor needed \(you are viewer\)$/);
    await trpcError(viewer.client.suppliers.delete.mutate({ id: missingId() }), 'FORBIDDEN', /editor needed/);
    await trpcError(viewer.client.users.list.query(), 'FORBIDDEN', /^role: admin needed/);
    const refused = await rest(url, 'POST', '/api/orders', {
      token: viewer.accessToken,
      body: { customerId: missingId(), supplierId: missingId(), totalCents: 1 },
    });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', message: 'role: editor needed (you are viewer)' } } });
    expect((await rest(url, 'GET', '/api/customers', { token: viewer.accessToken })).status).toBe(200);
  });

  test('an editor changes records but not users; an admin does both', async () => {
    const editor = await signedIn(url, 'editor');
    const customer = await editor.client.customers.create.mutate({ name: 'Made by an editor' });
    await expect(editor.client.customers.update.mutate({ id: customer.id, name: 'Edited' })).resolves.toMatchObject({ version: 2 });
    await trpcError(editor.client.users.invite.mutate({ role: 'viewer' }), 'FORBIDDEN', /^role: admin needed \(you are editor\)$/);
    expect((await rest(url, 'GET', '/api/users', { token: editor.accessToken })).status).toBe(403);
    expect((await rest(url, 'PATCH', `/api/users/${editor.user.id}`, { token: editor.accessToken, body: { role: 'admin' } })).status).toBe(
      403,
    );
    await expect(admin.customers.delete.mutate({ id: customer.id })).resolves.toEqual({ id: customer.id });
    await expect(admin.users.list.query({ limit: 100 })).resolves.toMatchObject({ total: expect.any(Number) });
  });

  test('auth.session and auth.me carry the role; the token names it too', async () => {
    const editor = await signedIn(url, 'editor');
    expect(await editor.client.auth.session.query()).toMatchObject({ user: { id: editor.user.id, role: 'editor', disabled: false } });
    expect(await editor.client.auth.me.query()).toMatchObject({ role: 'editor' });
    expect(JSON.parse(Buffer.from(editor.accessToken.split('.')[1]!, 'base64url').toString())).toMatchObject({ role: 'editor' });
  });
});

describe('sign-up by invitation (the default mode)', () => {
  test('without a code, or with a wrong one: 403 naming inviteCode; nothing is made', async () => {
    const fields = newUser();
    await trpcError(trpcClient(url).auth.signup.mutate(fields), 'FORBIDDEN', /^inviteCode: required/);
    const wrong = `${missingId()}.${'A'.repeat(43)}`;
    await trpcError(trpcClient(url).auth.signup.mutate({ ...fields, inviteCode: wrong }), 'FORBIDDEN', /^inviteCode: /);
    await trpcError(trpcClient(url).auth.signup.mutate({ ...fields, inviteCode: 'not-a-code' }), 'FORBIDDEN', /^inviteCode: /);
    // Without an invitation nothing else is told: not even that a username is taken.
    await trpcError(trpcClient(url).auth.signup.mutate({ ...newUser(), username: TEST_ADMIN.username }), 'FORBIDDEN', /^inviteCode: /);
    const rested = await rest(url, 'POST', '/api/auth/signup', { body: fields });
    expect(rested).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', message: expect.stringMatching(/^inviteCode: /) } } });
    await trpcError(trpcClient(url).auth.login.mutate({ username: fields.username, password: fields.password }), 'UNAUTHORIZED');
  });

  test('an invitation is used once and gives its role; its url opens the sign-up page with it', async () => {
    const invite = await admin.users.invite.mutate({ role: 'editor', email: 'someone@example.com', expiresInHours: 1 });
    expect(invite).toMatchObject({ role: 'editor', email: 'someone@example.com' });
    expect(new URL(invite.url).pathname).toBe('/signup');
    expect(new URL(invite.url).searchParams.get('invite')).toBe(invite.code);
    expect(Date.parse(invite.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    const { user } = await trpcClient(url).auth.signup.mutate({ ...newUser(), inviteCode: invite.code });
    expect(user.role).toBe('editor');
    await trpcError(trpcClient(url).auth.signup.mutate({ ...newUser(), inviteCode: invite.code }), 'FORBIDDEN', /^inviteCode: /);
  });

  test('a sign-up that fails (a taken username) gives its invitation back', async () => {
    const code = await inviteCode(url, 'viewer');
    await trpcError(trpcClient(url).auth.signup.mutate({ ...newUser(), username: TEST_ADMIN.username, inviteCode: code }), 'CONFLICT');
    await expect(trpcClient(url).auth.signup.mutate({ ...newUser(), inviteCode: code })).resolves.toMatchObject({
      user: { role: 'viewer' },
    });
  });

  test('an expired invitation is refused', async () => {
    const code = await inviteCode(url, 'viewer');
    await stack.backend.db.collection('invites').updateOne({ _id: objectIdOf(code) }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    await trpcError(trpcClient(url).auth.signup.mutate({ ...newUser(), inviteCode: code }), 'FORBIDDEN', /^inviteCode: .*expired/);
  });

  test('two sign-ups racing for one invitation: exactly one account', async () => {
    const code = await inviteCode(url, 'viewer');
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => trpcClient(url).auth.signup.mutate({ ...newUser(), inviteCode: code })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  test('users.invite checks its input', async () => {
    await trpcError(admin.users.invite.mutate({ role: 'owner' as 'admin' }), 'BAD_REQUEST', /^role: /);
    await trpcError(admin.users.invite.mutate({ role: 'viewer', expiresInHours: 721 }), 'BAD_REQUEST', /^expiresInHours: /);
    const viaRest = await rest(url, 'POST', '/api/users/invites', { token: await adminToken(url), body: { role: 'viewer' } });
    expect(viaRest).toMatchObject({ status: 201, body: { role: 'viewer', code: expect.any(String) } });
  });
});

describe('sign-up in open mode', () => {
  test('anyone signs up as a viewer; an invitation still sets the role', async () => {
    // The auth service decides the mode: a second backend in open mode, with the same BFF code.
    const openBackend = await startBackend(['auth'], { SIGNUP_MODE: 'open' });
    const openBff = await startTestBff(openBackend);
    try {
      const { user } = await trpcClient(openBff.url).auth.signup.mutate(newUser());
      expect(user.role).toBe('viewer');
      const code = await inviteCode(openBff.url, 'editor');
      expect((await trpcClient(openBff.url).auth.signup.mutate({ ...newUser(), inviteCode: code })).user.role).toBe('editor');
    } finally {
      await openBff.close();
      await openBackend.stop();
    }
  });
});

describe('users.list and users.update', () => {
  test('lists users newest first with paging and a search', async () => {
    const made = await signedIn(url, 'viewer');
    const found = await admin.users.list.query({ q: made.fields.username });
    expect(found).toMatchObject({ total: 1, items: [{ id: made.user.id, role: 'viewer', disabled: false }] });
    expect(found.items[0]).not.toHaveProperty('passwordHash');
    const first = await admin.users.list.query({ limit: 1 });
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await admin.users.list.query({ limit: 1, cursor: first.nextCursor! });
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
  });

  test("a role change applies to the user's existing token within 5 s, up and down", async () => {
    const user = await signedIn(url, 'viewer');
    await trpcError(user.client.customers.create.mutate({ name: 'Not yet' }), 'FORBIDDEN');
    expect(await admin.users.update.mutate({ id: user.user.id, role: 'editor' })).toMatchObject({ role: 'editor' });
    const promoted = await eventually(async () => {
      await user.client.customers.create.mutate({ name: 'Promoted' });
    });
    expect(promoted).toBeLessThan(VERIFIED_TTL_MS + 2_000);
    await admin.users.update.mutate({ id: user.user.id, role: 'viewer' });
    await eventually(() => trpcError(user.client.customers.create.mutate({ name: 'Demoted' }), 'FORBIDDEN').then(() => {}));
  });

  test('a disabled account cannot log in and its tokens stop within 5 s; enabled again, it can', async () => {
    const user = await signedIn(url, 'editor');
    await admin.users.update.mutate({ id: user.user.id, disabled: true });
    await trpcError(
      trpcClient(url).auth.login.mutate({ username: user.fields.username, password: user.fields.password }),
      'UNAUTHORIZED',
      /disabled/,
    );
    await eventually(() => trpcError(user.client.customers.list.query(), 'UNAUTHORIZED').then(() => {}));
    expect(await user.client.auth.session.query()).toEqual({ user: null });
    // Disabling changed nothing else: the role stays, and so does the history's account of it.
    expect(await admin.users.update.mutate({ id: user.user.id, disabled: false })).toMatchObject({ role: 'editor', disabled: false });
    const [enabled, disabled] = (await admin.audit.list.query({ entity: 'user', entityId: user.user.id })).items;
    expect([enabled?.changes, disabled?.changes]).toEqual([
      { disabled: { from: true, to: false } },
      { disabled: { from: false, to: true } },
    ]);
    await expect(
      trpcClient(url).auth.login.mutate({ username: user.fields.username, password: user.fields.password }),
    ).resolves.toHaveProperty('accessToken');
  });

  test('the last enabled admin can be neither demoted nor disabled (409); with a second admin it can', async () => {
    const me = await admin.auth.me.query();
    await trpcError(admin.users.update.mutate({ id: me.id, role: 'editor' }), 'CONFLICT', /last enabled admin/);
    const viaRest = await rest(url, 'PATCH', `/api/users/${me.id}`, { token: await adminToken(url), body: { disabled: true } });
    expect(viaRest).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    // With a second enabled admin, either may go: the second disables itself, and then the first is the last again.
    const second = await signedIn(url, 'admin');
    expect(await second.client.users.update.mutate({ id: second.user.id, disabled: true })).toMatchObject({ disabled: true });
    await trpcError(admin.users.update.mutate({ id: me.id, disabled: true }), 'CONFLICT', /last enabled admin/);
  });

  test('users.update checks its input and names a missing user', async () => {
    await trpcError(admin.users.update.mutate({ id: missingId(), role: 'viewer' }), 'NOT_FOUND');
    await trpcError(admin.users.update.mutate({ id: 'nope', role: 'viewer' }), 'BAD_REQUEST', /^id: /);
    await trpcError(admin.users.update.mutate({ id: missingId() }), 'BAD_REQUEST', /^role: give role or disabled/);
  });
});

describe('the first admin', () => {
  test('is made once from ADMIN_*: a restart of auth makes no second one', async () => {
    await stack.backend.stopService('auth');
    await stack.backend.startService('auth');
    const admins = await stack.backend.db.collection('users').countDocuments({ username: TEST_ADMIN.username });
    expect(admins).toBe(1);
    const session = await trpcClient(url).auth.login.mutate({ username: TEST_ADMIN.username, password: TEST_ADMIN.password });
    expect(session.user.role).toBe('admin');
  });
});

/** The invitation id a code starts with. */
const objectIdOf = (code: string) => ObjectId.createFromHexString(code.slice(0, 24));
