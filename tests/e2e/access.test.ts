/**
 * Access end to end, in headless Chromium against the whole stack (invite-only sign-up, its
 * default): an admin invites an editor from the Users page and copies the link; the editor signs up
 * from it and edits a customer; the customer's History panel shows the edit and who made it; a
 * viewer sees no create, edit or delete control; a demotion on the Users page takes the editor's
 * controls away; a disabled account is logged out. No console error beyond the expected refusals.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type E2eStack, launchChromium, SCREENSHOTS, startE2eStack } from './support.js';

/** Refusals this flow causes on purpose (a 401 once disabled, a 403 once demoted, a 422 for a bad file): each one's effect is checked. */
const EXPECTED_HTTP_ERROR = /^Failed to load resource: the server responded with a status of (401|403|422) /;

const ADMIN = { username: 'root_admin', email: 'root.admin@example.com', password: 'root-admin-password' };
const CAROL = { username: 'carol', email: 'carol@example.com', password: 'carol-password' };
const DAVE = { username: 'dave', email: 'dave@example.com', password: 'dave-password' };

let stack: E2eStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const contexts: BrowserContext[] = [];
const stackLog: string[] = [];
const consoleErrors: string[] = [];
let customerId = '';

const api = (token?: string) => apiClient(stack.url, token);

async function newPage(who: string) {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (message.type() === 'error' && !EXPECTED_HTTP_ERROR.test(message.text())) consoleErrors.push(`${who}: ${message.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${who}: ${err.message}`));
  return page;
}

async function logIn(page: Page, user: { username: string; password: string }) {
  await page.goto(`${stack.url}/login`);
  await page.getByLabel('Username or email').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${stack.url}/`);
}

/** Invites someone from the Users page; returns the (new) link it shows. */
async function invite(admin: Page, role: 'viewer' | 'editor', email: string, previous = '') {
  await admin.getByLabel('Role', { exact: true }).selectOption(role);
  await admin.getByLabel('Email (optional)').fill(email);
  await admin.getByRole('button', { name: 'Create invite' }).click();
  const link = admin.getByLabel('Invite link');
  await expect.poll(async () => ((await link.count()) > 0 ? link.inputValue() : '')).toMatch(/invite=/);
  await expect.poll(() => link.inputValue()).not.toBe(previous);
  return link.inputValue();
}

async function signUpFrom(page: Page, link: string, user: { username: string; email: string; password: string }) {
  await page.goto(link);
  await page.getByTestId('invite-notice').waitFor();
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${stack.url}/`);
}

beforeAll(async () => {
  stack = await startE2eStack(ADMIN, (line) => stackLog.push(line));
  const admin = api((await api().auth.login.mutate({ username: ADMIN.username, password: ADMIN.password })).accessToken);
  customerId = (await admin.customers.create.mutate({ name: 'Initech', email: 'buy@initech.example' })).id;
  browser = await launchChromium();
}, 180_000);

afterEach(({ task }) => {
  if (task.result?.state === 'fail') console.log(`stack output, last lines:\n${stackLog.slice(-40).join('\n')}`);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await stack?.stop();
}, 60_000);

describe('access, end to end in Chromium', { timeout: 120_000 }, () => {
  let admin: Page;
  let carol: Page;
  let dave: Page;
  let carolLink = '';
  let daveLink = '';

  it('the admin invites an editor and a viewer from the Users page, with a link to copy', async () => {
    admin = await newPage('admin');
    await logIn(admin, ADMIN);
    await admin.getByRole('link', { name: 'Users' }).click();
    await admin.waitForURL(`${stack.url}/users`);
    await admin.locator(`tr[data-username="${ADMIN.username}"]`).waitFor();
    carolLink = await invite(admin, 'editor', CAROL.email);
    expect(new URL(carolLink).pathname).toBe('/signup');
    await admin.getByRole('button', { name: 'Copy link' }).click();
    await expect.poll(() => admin.getByTestId('copy-status').textContent()).toBe('Copied');
    expect(await admin.evaluate('navigator.clipboard.readText()')).toBe(carolLink);
    await admin.screenshot({ path: join(SCREENSHOTS, 'users.png'), fullPage: true });
    daveLink = await invite(admin, 'viewer', DAVE.email, carolLink);
    expect(daveLink).not.toBe(carolLink);
  });

  it('imports a CSV file (a dry run first, then all of it) and exports what the search shows', async () => {
    await admin.goto(`${stack.url}/customers`);
    await admin.getByRole('button', { name: 'Import CSV' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Import customers' });
    // A bad file: every problem listed, nothing imported.
    await dialog
      .getByLabel('CSV file')
      .setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('name,email\nGood,\n,x\n') });
    const errors = dialog.getByTestId('import-errors');
    await errors.waitFor();
    expect(await errors.textContent()).toContain('must not be empty');
    expect(await errors.textContent()).toContain('must be an email address');
    const csv = 'name,email,phone,address\r\n"Umbrella, Corp",buy@umbrella.example,,\r\nHooli,,+1 555 0101,"1 ""Hooli"" Way"\r\n';
    await dialog.getByLabel('CSV file').setInputFiles({ name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await expect.poll(() => dialog.getByTestId('import-ready').textContent()).toContain('2 rows ready to import');
    await dialog.getByRole('button', { name: 'Import 2 rows' }).click();
    await expect.poll(() => dialog.getByTestId('import-done').textContent()).toContain('Imported 2 rows');
    await admin.screenshot({ path: join(SCREENSHOTS, 'import-done.png'), fullPage: true });
    await dialog.getByRole('button', { name: 'Done' }).click();
    await admin.locator('tbody tr', { hasText: 'Umbrella, Corp' }).waitFor();
    await admin.locator('tbody tr', { hasText: 'Hooli' }).waitFor();

    await admin.getByRole('searchbox').fill('Umbrella');
    await expect.poll(() => admin.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toContain('q=Umbrella');
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('link', { name: 'Export CSV' }).click()]);
    const chunks: Buffer[] = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toMatch(
      /^id,name,email,phone,address,createdAt\r\n[0-9a-f]{24},"Umbrella, Corp",buy@umbrella\.example,,,[0-9T:.-]+Z\r\n$/,
    );
  });

  it('the editor signs up from the link and edits a customer; its History panel shows who changed what', async () => {
    carol = await newPage('carol');
    await signUpFrom(carol, carolLink, CAROL);
    // An editor sees no Users link.
    expect(await carol.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await carol.goto(`${stack.url}/customers/${customerId}`);
    await carol.getByRole('heading', { name: 'Initech' }).waitFor();
    await carol.getByRole('button', { name: 'Edit', exact: true }).click();
    const dialog = carol.getByRole('dialog', { name: 'Edit customer' });
    await dialog.getByLabel('Name').fill('Initech Ltd');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await carol.getByRole('heading', { name: 'Initech Ltd' }).waitFor();
    const updated = carol.getByTestId('history').locator('li.history-entry[data-action="updated"]');
    await updated.waitFor();
    expect(await updated.textContent()).toContain('carol');
    expect(await updated.textContent()).toContain('name: Initech → Initech Ltd');
    expect(await carol.getByTestId('history').locator('li.history-entry[data-action="created"]').textContent()).toContain(ADMIN.username);
    await carol.screenshot({ path: join(SCREENSHOTS, 'customer-history.png'), fullPage: true });
  });

  it('a viewer sees the data but no create, edit or delete control', async () => {
    dave = await newPage('dave');
    await signUpFrom(dave, daveLink, DAVE);
    await dave.goto(`${stack.url}/customers`);
    await dave.locator('tbody tr', { hasText: 'Initech Ltd' }).waitFor();
    expect(await dave.getByRole('button', { name: 'New customer' }).count()).toBe(0);
    expect(await dave.getByRole('button', { name: /^(Edit|Delete) Initech/ }).count()).toBe(0);
    await dave.goto(`${stack.url}/customers/${customerId}`);
    await dave.getByTestId('history').locator('li.history-entry').first().waitFor();
    expect(await dave.getByRole('button', { name: 'Edit', exact: true }).count()).toBe(0);
    expect(await dave.getByRole('button', { name: 'Delete', exact: true }).count()).toBe(0);
    await dave.goto(`${stack.url}/`);
    await dave.getByRole('heading', { name: 'Orders' }).waitFor();
    expect(await dave.getByRole('button', { name: /New order|Create the first order/ }).count()).toBe(0);
    await dave.goto(`${stack.url}/users`);
    await dave.getByTestId('admins-only').waitFor();
  });

  it("a demotion on the Users page takes the editor's controls away; a disabled account is logged out", async () => {
    await admin.goto(`${stack.url}/users`);
    await admin.getByLabel(`Role of ${CAROL.username}`).selectOption('viewer');
    await expect.poll(() => admin.getByLabel(`Role of ${CAROL.username}`).inputValue()).toBe('viewer');
    // Within 5 s every replica knows; the page asks again on its next load.
    await expect
      .poll(
        async () => {
          await carol.goto(`${stack.url}/customers`);
          await carol.locator('tbody tr', { hasText: 'Initech Ltd' }).waitFor();
          return carol.getByRole('button', { name: 'New customer' }).count();
        },
        { timeout: 15_000, interval: 1_000 },
      )
      .toBe(0);

    await admin.getByRole('button', { name: `Disable ${DAVE.username}` }).click();
    await expect
      .poll(() => admin.locator(`tr[data-username="${DAVE.username}"]`).getByTestId('user-status').textContent())
      .toBe('Disabled');
    await expect
      .poll(
        async () => {
          await dave.goto(`${stack.url}/customers`);
          // The page asks auth.session first: a signed-out answer sends it to the login page.
          await dave.waitForURL(/\/login/, { timeout: 2_000 }).catch(() => {});
          return dave.url();
        },
        { timeout: 15_000, interval: 1_000 },
      )
      .toMatch(/\/login/);
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
